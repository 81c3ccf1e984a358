import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { DatabaseTokenResponse, HubTokenResponse } from '@trustlink/protocol';
import type { CredentialsIndex } from '../run/credentials-writer.js';
import {
  DeviceRevokedError,
  NotEnrolledError,
  PlatformProblemError,
  PlatformUnreachableError,
  PlatformUntrustedError,
} from '../run/run-errors.js';
import type { RunLog } from '../run/run-log.js';
import type { StatusReport } from '../state/status-report.js';

/** Longest a long-poll for changed credentials waits. */
const MAX_WAIT_SECONDS = 300;
/** Keeps an idle event stream alive through proxies and tells a client the agent still runs. */
const HEARTBEAT_MS = 25_000;

export interface LocalApiSource {
  credentials(): CredentialsIndex | null;
  status(): StatusReport;
  databaseToken(): Promise<DatabaseTokenResponse>;
  /** A token for the AWS IoT custom authorizer of the device's hub (absent: never offered). */
  hubToken?(): Promise<HubTokenResponse>;
  /** Emits 'credentials' (with the new index) and 'revoked'. */
  events: NodeJS.EventEmitter;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const problem = status >= 400;
  res.writeHead(status, {
    'content-type': problem ? 'application/problem+json' : 'application/json',
    'cache-control': 'no-store',
  });
  res.end(status === 204 ? undefined : JSON.stringify(body) + '\n');
}

function problem(res: http.ServerResponse, status: number, title: string, detail?: string): void {
  send(res, status, { type: 'about:blank', title, status, ...(detail ? { detail } : {}) });
}

/**
 * The agent's local API (A5): small HTTP/JSON on a Unix socket, for applications on the device.
 * Access is the socket's file mode (0660: the agent's user and group), so applications prove
 * nothing else; nothing here hands out key bytes. Routes are in docs/agent.md ("Local API").
 */
export function createLocalApi(opts: { socketPath: string; source: LocalApiSource; log: RunLog }) {
  const { source, log } = opts;
  const streams = new Set<http.ServerResponse>();

  function credentialsOrProblem(res: http.ServerResponse): void {
    const c = source.credentials();
    if (!c) problem(res, 503, 'not enrolled yet', 'the agent has no certificate yet; retry later');
    else send(res, 200, c);
  }

  /** GET /v1/credentials[?after=<generation>&wait=<seconds>]: long-poll for a newer generation. */
  function credentials(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    const after = url.searchParams.get('after');
    if (after === null) return credentialsOrProblem(res);
    const generation = Number(after);
    const wait = Number(url.searchParams.get('wait') ?? '30');
    if (!Number.isInteger(generation) || generation < 0 || !(wait >= 0 && wait <= MAX_WAIT_SECONDS))
      return problem(
        res,
        400,
        'bad query',
        `after must be a generation (integer >= 0) and wait 0..${MAX_WAIT_SECONDS} seconds`,
      );
    const current = source.credentials();
    if (current && current.generation > generation) return send(res, 200, current);
    const onChange = (c: CredentialsIndex) => {
      if (c.generation <= generation) return;
      done();
      send(res, 200, c);
    };
    const timer = setTimeout(() => {
      done();
      send(res, 204, undefined);
    }, wait * 1000);
    const done = () => {
      clearTimeout(timer);
      source.events.off('credentials', onChange);
    };
    source.events.on('credentials', onChange);
    res.on('close', done);
  }

  /** GET /v1/events: server-sent events `credentials` and `revoked`. */
  function eventStream(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    const c = source.credentials();
    res.write(`event: hello\ndata: ${JSON.stringify({ generation: c?.generation ?? null })}\n\n`);
    const onCredentials = (idx: CredentialsIndex) =>
      res.write(`event: credentials\ndata: ${JSON.stringify(idx)}\n\n`);
    const onRevoked = () => res.write(`event: revoked\ndata: {}\n\n`);
    const heartbeat = setInterval(() => res.write(': still here\n\n'), HEARTBEAT_MS);
    source.events.on('credentials', onCredentials);
    source.events.on('revoked', onRevoked);
    streams.add(res);
    res.on('close', () => {
      clearInterval(heartbeat);
      source.events.off('credentials', onCredentials);
      source.events.off('revoked', onRevoked);
      streams.delete(res);
    });
  }

  async function databaseToken(res: http.ServerResponse): Promise<void> {
    return token(res, 'database token', () => source.databaseToken(), {
      title: 'no database token',
      detail:
        'the platform has no database-direct connection for this device (its policy names none, or the platform does not offer database tokens)',
    });
  }

  async function hubToken(res: http.ServerResponse): Promise<void> {
    const notOffered = {
      title: 'no hub token',
      detail:
        "the device's hub has no custom authentication (or the platform does not offer hub tokens)",
    };
    if (!source.hubToken) return problem(res, 404, notOffered.title, notOffered.detail);
    return token(res, 'hub token', () => source.hubToken!(), notOffered);
  }

  /** A token from the platform, its refusals told apart for the application asking. */
  async function token(
    res: http.ServerResponse,
    what: string,
    fetch: () => Promise<unknown>,
    notFound: { title: string; detail: string },
  ): Promise<void> {
    try {
      send(res, 200, await fetch());
    } catch (err) {
      if (err instanceof DeviceRevokedError)
        return problem(
          res,
          403,
          'device revoked',
          'the platform has revoked this device: it issues no more tokens and refuses those it issued; the agent stops',
        );
      if (err instanceof NotEnrolledError)
        return problem(
          res,
          503,
          'not enrolled yet',
          'the agent has no certificate yet; retry later',
        );
      if (err instanceof PlatformProblemError && err.status === 404)
        return problem(res, 404, notFound.title, notFound.detail);
      // The platform has not finished setting up what the token is for (a new authorizer).
      if (err instanceof PlatformProblemError && err.status === 409)
        return problem(res, 503, 'not ready', err.message);
      if (err instanceof PlatformUnreachableError || err instanceof PlatformUntrustedError)
        return problem(res, 503, 'platform unavailable', err.message);
      // Overloaded or failing for now: the application should retry, when the platform said.
      if (err instanceof PlatformProblemError && (err.status === 429 || err.status >= 500)) {
        if (err.retryAfterSeconds !== undefined)
          res.setHeader('retry-after', String(Math.ceil(err.retryAfterSeconds)));
        return problem(res, 503, 'platform unavailable', `${err.message}; retry later`);
      }
      if (err instanceof PlatformProblemError)
        return problem(res, 502, 'the platform refused', err.message);
      log.error(`local API: ${what} failed`, { error: (err as Error).message });
      return problem(res, 500, `${what} failed`, (err as Error).message);
    }
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const route = `${req.method} ${url.pathname}`;
    // Bodies are never needed: drain and cap whatever a client sends.
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 64 * 1024) req.destroy();
    });
    switch (route) {
      case 'GET /v1/credentials':
        return credentials(req, res, url);
      case 'GET /v1/status':
        return send(res, 200, source.status());
      case 'GET /v1/events':
        return eventStream(req, res);
      case 'POST /v1/database-token':
        return void databaseToken(res);
      case 'POST /v1/hub-token':
        return void hubToken(res);
      default:
        if (
          [
            '/v1/credentials',
            '/v1/status',
            '/v1/events',
            '/v1/database-token',
            '/v1/hub-token',
          ].includes(url.pathname)
        )
          return problem(res, 405, 'method not allowed');
        return problem(res, 404, 'not found', `no route ${route}`);
    }
  });

  return {
    /** Listens on the socket (mode 0660), replacing a stale one left by a crash. */
    async listen(): Promise<void> {
      mkdirSync(path.dirname(opts.socketPath), { recursive: true, mode: 0o750 });
      const alive = await new Promise<boolean>((resolve) => {
        const s = net.connect(opts.socketPath);
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (alive) throw new Error(`another agent is listening on ${opts.socketPath}`);
      rmSync(opts.socketPath, { force: true });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.socketPath, () => resolve());
      });
      chmodSync(opts.socketPath, 0o660);
    },
    async close(): Promise<void> {
      for (const s of streams) s.end();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      rmSync(opts.socketPath, { force: true });
    },
  };
}
