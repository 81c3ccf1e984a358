import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per server process, with default process metrics and per-route HTTP figures. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'trustlink_' });
  const duration = new Histogram({
    name: 'trustlink_http_request_duration_seconds',
    help: 'HTTP request duration by listener, method, route and status',
    labelNames: ['listener', 'method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'trustlink_http_server_errors_total',
    help: 'Responses with status 500 or above',
    labelNames: ['listener', 'route'] as const,
    registers: [registry],
  });
  /** Records one response (a route answered outside Fastify's pipeline records its own). */
  function observe(
    listener: string,
    method: string,
    route: string,
    status: number,
    seconds: number,
  ): void {
    duration.observe({ listener, method, route, status: String(status) }, seconds);
    if (status >= 500) errors.inc({ listener, route });
  }
  return {
    registry,
    observe,
    /** Records every response of an app under its listener name. */
    instrument(app: FastifyInstance, listener: string) {
      app.addHook('onResponse', async (request, reply) => {
        const route = request.routeOptions.url ?? 'unmatched';
        observe(listener, request.method, route, reply.statusCode, reply.elapsedTime / 1000);
      });
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
