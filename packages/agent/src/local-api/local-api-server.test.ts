import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialsIndex } from '../run/credentials-writer.js';
import {
  DeviceRevokedError,
  NotEnrolledError,
  PlatformProblemError,
  PlatformUnreachableError,
} from '../run/run-errors.js';
import { createRunLog } from '../run/run-log.js';
import type { StatusReport } from '../state/status-report.js';
import { createLocalApi } from './local-api-server.js';

const dir = mkdtempSync(path.join(tmpdir(), 'trustlink-local-api-'));
const socketPath = path.join(dir, 'run', 'agent.sock');
const events = new EventEmitter();
let current: CredentialsIndex | null = null;
let tokenError: Error = new PlatformProblemError('database token: 404', 404, 'not-found');
let hubTokenAnswer: Error | Record<string, string> = new PlatformProblemError(
  'hub token: 404',
  404,
  'not-found',
);
const index = (generation: number) =>
  ({ deviceId: 'd'.repeat(64), generation }) as CredentialsIndex;
const api = createLocalApi({
  socketPath,
  log: createRunLog(() => {}),
  source: {
    credentials: () => current,
    status: () => ({ state: 'enrolled' }) as StatusReport,
    databaseToken: async () => {
      throw tokenError;
    },
    hubToken: async () => {
      if (hubTokenAnswer instanceof Error) throw hubTokenAnswer;
      return hubTokenAnswer as never;
    },
    events,
  },
});
beforeAll(() => api.listen());
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

function call(method: string, urlPath: string) {
  return new Promise<{
    status: number;
    text: string;
    type: string | undefined;
    retryAfter: string | undefined;
  }>((resolve, reject) => {
    const req = http.request({ socketPath, method, path: urlPath }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          text,
          type: res.headers['content-type'],
          retryAfter: res.headers['retry-after'],
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local API', () => {
  it('ok/the socket is 0660; before enrolment credentials are 503, status answers', async () => {
    expect(statSync(socketPath).mode & 0o777).toBe(0o660);
    expect((await call('GET', '/v1/credentials')).status).toBe(503);
    expect(JSON.parse((await call('GET', '/v1/status')).text)).toEqual({ state: 'enrolled' });
  });

  it('ok/long-poll answers on the next generation, or 204 when nothing changed', async () => {
    current = index(1);
    expect(JSON.parse((await call('GET', '/v1/credentials?after=0')).text).generation).toBe(1);
    expect((await call('GET', '/v1/credentials?after=1&wait=0.2')).status).toBe(204);
    const waiting = call('GET', '/v1/credentials?after=1&wait=30');
    await new Promise((r) => setTimeout(r, 100));
    current = index(2);
    events.emit('credentials', current);
    const answered = await waiting;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.text).generation).toBe(2);
  });

  it('ok/server-sent events carry changes and revocation', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const req = http.request({ socketPath, path: '/v1/events' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('event: hello') && !text.includes('credentials')) {
            events.emit('credentials', index(3));
            events.emit('revoked');
          }
          if (text.includes('event: revoked')) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(received).toMatch(/event: hello\ndata: \{"generation":2\}\n\n/);
    expect(received).toMatch(/event: credentials\ndata: \{[^\n]*"generation":3\}\n\n/);
  });

  it('fail/database token: 404 from the platform is a clear 404, revoked 403, unreachable a 503', async () => {
    const r = await call('POST', '/v1/database-token');
    expect(r.status).toBe(404);
    expect(r.type).toBe('application/problem+json');
    expect(JSON.parse(r.text).detail).toMatch(/no database-direct connection for this device/);
    tokenError = new PlatformUnreachableError('cannot reach https://x: ECONNREFUSED');
    expect((await call('POST', '/v1/database-token')).status).toBe(503);
    tokenError = new PlatformProblemError('database token: 429', 429, 'rate-limited', 12);
    const busy = await call('POST', '/v1/database-token');
    expect(busy.status).toBe(503);
    expect(busy.retryAfter).toBe('12');
    tokenError = new PlatformProblemError('database token: 400', 400, 'validation-failed');
    expect((await call('POST', '/v1/database-token')).status).toBe(502);
    tokenError = new DeviceRevokedError();
    const revoked = await call('POST', '/v1/database-token');
    expect(revoked.status).toBe(403);
    expect(JSON.parse(revoked.text)).toMatchObject({ title: 'device revoked' });
    tokenError = new NotEnrolledError();
    const early = await call('POST', '/v1/database-token');
    expect(early.status).toBe(503);
    expect(JSON.parse(early.text).title).toBe('not enrolled yet');
  });

  it('ok/hub token: passed through; none is 404, not yet set up is 503', async () => {
    const none = await call('POST', '/v1/hub-token');
    expect(none.status).toBe(404);
    expect(JSON.parse(none.text).detail).toMatch(/hub has no custom authentication/);
    hubTokenAnswer = new PlatformProblemError(
      'hub token: the platform answered 409 (custom authorizer x is not set up in AWS IoT yet)',
      409,
      'not-ready',
    );
    const early = await call('POST', '/v1/hub-token');
    expect(early.status).toBe(503);
    expect(JSON.parse(early.text)).toMatchObject({ title: 'not ready' });
    expect(JSON.parse(early.text).detail).toContain('not set up in AWS IoT yet');
    hubTokenAnswer = { authorizerName: 'a', token: 'h.p.s', signature: 'c2ln' };
    const ok = await call('POST', '/v1/hub-token');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toEqual(hubTokenAnswer);
    expect((await call('GET', '/v1/hub-token')).status).toBe(405);
  });

  it('fail/bad queries, methods and paths', async () => {
    expect((await call('GET', '/v1/credentials?after=-1')).status).toBe(400);
    expect((await call('GET', '/v1/credentials?after=1&wait=301')).status).toBe(400);
    expect((await call('DELETE', '/v1/credentials')).status).toBe(405);
    expect((await call('GET', '/v2/anything')).status).toBe(404);
  });

  it('fail/a second agent on the same socket is refused', async () => {
    const second = createLocalApi({
      socketPath,
      log: createRunLog(() => {}),
      source: {
        credentials: () => null,
        status: () => ({}) as StatusReport,
        databaseToken: async () => {
          throw new Error('x');
        },
        events,
      },
    });
    await expect(second.listen()).rejects.toThrow(/another agent is listening/);
  });
});
