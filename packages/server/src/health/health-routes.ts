import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Metrics } from '../lib/metrics.js';
import type { Runtime } from '../runtime.js';

const check = z.object({ ok: z.boolean(), detail: z.string() });
const readySchema = z.object({
  status: z.enum(['ready', 'not-ready']),
  checks: z.object({ database: check, keystore: check }),
});

/** Probes that say whether the database and the key store answer, each within a time limit. */
export async function readiness(runtime: Runtime) {
  const within = <T>(p: Promise<T>, ms: number) =>
    Promise.race([
      p,
      new Promise<never>((_, rej) =>
        setTimeout(() => rej(new Error(`no answer within ${ms} ms`)), ms).unref(),
      ),
    ]);
  const database = await within(sql`select 1 as one`.execute(runtime.db.kysely), 2000)
    .then(() => ({ ok: true, detail: `${runtime.db.dialect} answers` }))
    .catch((err: Error) => ({ ok: false, detail: err.message }));
  const keystore = await within(runtime.keystore.health(), 2000)
    .then((h) => ({ ok: h.ok, detail: `${h.backend}: ${h.detail}` }))
    .catch((err: Error) => ({ ok: false, detail: err.message }));
  return { database, keystore };
}

/** /healthz (the process is alive), /readyz (it can serve), /metrics (Prometheus). */
export function registerHealthRoutes(
  app: FastifyInstance,
  runtime: Runtime,
  metrics?: Metrics,
): void {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        operationId: 'healthz',
        summary: 'Liveness: the process answers',
        response: { 200: z.object({ status: z.literal('alive') }) },
      },
    },
    async () => ({ status: 'alive' as const }),
  );
  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        operationId: 'readyz',
        summary: 'Readiness: the database and the key store answer',
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (_req, reply) => {
      const checks = await readiness(runtime);
      const ok = checks.database.ok && checks.keystore.ok;
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not-ready', checks });
    },
  );
  if (metrics) {
    app.get(
      '/metrics',
      {
        config: { access: 'public' },
        schema: {
          tags: ['health'],
          operationId: 'metrics',
          summary: 'Prometheus metrics (text exposition format)',
          hide: false,
        },
      },
      async (_req, reply) =>
        reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );
  }
}
