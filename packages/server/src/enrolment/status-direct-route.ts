import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { FIRMWARE_DIGEST_HEADER, sha256HexSchema } from '@trustlink/protocol';
import { AppError, TooManyRequestsError } from '../lib/errors.js';
import {
  INTERNAL_ERROR_PROBLEM,
  appErrorProblem,
  problemBody,
  type ProblemInput,
} from '../lib/problem-handler.js';
import type { DeviceRequestContext } from './device-audit.js';
import type { DeviceApi } from './device-api.js';

/** The check-in's path; the route of the same path in enrolment-routes.ts answers the rest. */
export const STATUS_PATH = '/device/v1/status';
/** The longest If-None-Match the route's header schema accepts. */
const IF_NONE_MATCH_MAX = 256;

export interface DirectStatusDeps {
  api: Omit<DeviceApi, 'instanceOf'>;
  /** The instance a request addresses (as the routes' instanceOf). */
  instanceOf(req: IncomingMessage): string;
  /** The id a request is known by in the log and the x-request-id header (app.ts). */
  requestId(req: IncomingMessage): string;
  /** Records the response in the listener's request metrics. */
  observe(method: string, route: string, status: number, seconds: number): void;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The check-in (`GET /device/v1/status`), the request a fleet makes most, answered before
 * Fastify's request pipeline: a check-in has no body and no parameters, so routing, the hooks,
 * the schema validation of its two headers and the reply's serialisation cost more CPU than
 * everything the check-in itself does. The answer is the route's own: the same
 * authentication (device certificate or bearer handle, the device's state read on every
 * request), rate limit, status, ETag and headers, the same problem documents and bare
 * 401/403 for refused devices (reasons in the audit log), the same request metrics and log
 * lines. A request this path does not take exactly as the route would (another method, a
 * query string, a body, a header the route's schema would refuse, a server that is closing)
 * goes to Fastify untouched, before anything is read or recorded.
 */
export function registerDirectStatus(app: FastifyInstance, deps: DirectStatusDeps): void {
  const { api } = deps;
  // The listener's pino logger (app.ts gives Fastify one), with Fastify's serializers.
  const log = app.log as unknown as Logger;
  const server = app.server;
  const fastify = server.listeners('request') as Handler[];
  if (fastify.length !== 1) throw new Error('the device listener has no single request handler');
  const next = fastify[0]!;
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  function takes(req: IncomingMessage): boolean {
    if (closing || req.method !== 'GET' || req.url !== STATUS_PATH) return false;
    const h = req.headers;
    if (h['content-length'] !== undefined || h['transfer-encoding'] !== undefined) return false;
    const inm = h['if-none-match'];
    if (inm !== undefined && inm.length > IF_NONE_MATCH_MAX) return false;
    const digest = h[FIRMWARE_DIGEST_HEADER];
    if (digest !== undefined && !sha256HexSchema.safeParse(digest).success) return false;
    return true;
  }

  async function answer(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const ctx: DeviceRequestContext = {
      instanceId: deps.instanceOf(req),
      sourceAddress: req.socket.remoteAddress ?? null,
      channel: 'device-api',
    };
    const who = await api.auth.authenticate(
      { headers: req.headers, raw: req },
      ctx,
      'device.check-in',
      { allowExpired: true, withUpdate: true },
    );
    api.limits.device(ctx.instanceId, who.device.id);
    const digest = req.headers[FIRMWARE_DIGEST_HEADER];
    const a = await api.checkIn.status(
      ctx,
      who.device,
      req.headers['if-none-match'],
      typeof digest === 'string' ? digest : undefined,
      who.waitingUpdateId,
    );
    if (a.notModified) {
      res.writeHead(304, { etag: a.etag, 'cache-control': 'no-cache', 'x-request-id': id });
      res.end();
      return;
    }
    const body = JSON.stringify(a.body);
    res.writeHead(200, {
      etag: a.etag,
      'cache-control': 'no-cache',
      'content-type': 'application/json; charset=utf-8',
      'x-request-id': id,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  function fail(req: IncomingMessage, res: ServerResponse, id: string, err: unknown): void {
    const reqLog = log.child({ reqId: id });
    let problem: ProblemInput;
    const headers: Record<string, string | number> = { 'x-request-id': id };
    if (err instanceof AppError) {
      if (err instanceof TooManyRequestsError)
        headers['retry-after'] = String(err.retryAfterSeconds);
      if (err.internalCause) reqLog.info({ cause: err.internalCause }, err.message);
      problem = appErrorProblem(err);
    } else {
      reqLog.error({ err }, 'unhandled error');
      problem = INTERNAL_ERROR_PROBLEM;
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify(problemBody(problem, req.url ?? STATUS_PATH, id));
    headers['content-type'] = 'application/problem+json; charset=utf-8';
    headers['content-length'] = Buffer.byteLength(body);
    res.writeHead(problem.status, headers);
    res.end(body);
  }

  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!takes(req)) return next(req, res);
    const t0 = performance.now();
    const id = deps.requestId(req);
    const logged = log.isLevelEnabled('info');
    if (logged) log.child({ reqId: id }).info({ req: logView(req) }, 'incoming request');
    res.once('finish', () => {
      const ms = performance.now() - t0;
      deps.observe('GET', STATUS_PATH, res.statusCode, ms / 1000);
      if (logged)
        log
          .child({ reqId: id })
          .info({ res: { statusCode: res.statusCode }, responseTime: ms }, 'request completed');
    });
    answer(req, res, id).catch((err: unknown) => {
      try {
        fail(req, res, id, err);
      } catch {
        // Not even the problem could be written: drop the connection rather than hang it.
        res.destroy();
      }
    });
  });
}

/** A request as Fastify's request serializer reads it (it logs method, url, host, address, port). */
function logView(req: IncomingMessage) {
  return {
    method: req.method,
    url: req.url,
    headers: req.headers,
    host: req.headers.host,
    ip: req.socket.remoteAddress,
    socket: req.socket,
  };
}
