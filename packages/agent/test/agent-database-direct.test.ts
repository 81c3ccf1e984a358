import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers, type TestPrincipal } from '../../server/src/test-helpers/test-auth.js';
import {
  createDatabaseConnection,
  databaseDirectPolicyAndBatch,
  mariaTarget,
  pgTarget,
  type DatabaseTarget,
} from '../../server/src/test-helpers/test-database-direct.js';
import { TEST_DIALECTS } from '../../server/src/test-helpers/test-databases.js';
import { register } from '../../server/src/test-helpers/test-devices.js';
import { startTestServer, type TestServer } from '../../server/src/test-helpers/test-server.js';
import type { Connection } from '../../server/src/database-direct/database-direct-types.js';
import { RUN_EXIT } from '../src/run/run-command.js';
import { startSwtpm, type Swtpm } from '../src/test-helpers/swtpm.js';
import {
  agent,
  agentDocBlock,
  requireBuiltCli,
  startAgent,
  writeAgentConfig,
  type RunningAgent,
} from './agent-run-helpers.js';

/**
 * Issue 9's "database direct through the agent" and the agent side of A5: an application on an
 * enrolled device uses only the agent's local API (curl over the Unix socket, as docs/agent.md
 * shows) to get a database token, writes a record with curl to the data endpoint the answer
 * names, and the record is read back from the real PostgreSQL and MariaDB of this machine, each
 * written with a login of its own that is not a superuser. Expired, forged and revoked tokens
 * are refused.
 */

const root = mkdtempSync(path.join(tmpdir(), 'trustlink-agent-db-'));
beforeAll(() => requireBuiltCli());
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Answer {
  status: number;
  type: string;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

/** One curl call, as an application on the device makes it (asynchronous: the platform runs here). */
function curl(args: string[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-sS', '-w', '\n%{http_code}|%{content_type}', ...args],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`curl ${args.join(' ')}: ${err.message} ${stderr}`));
        const i = stdout.lastIndexOf('\n');
        const [status, type = ''] = stdout.slice(i + 1).split('|');
        const body = stdout.slice(0, i);
        resolve({ status: Number(status), type, body, json: () => JSON.parse(body) });
      },
    );
  });
}

/** The bash script an application would be, run as written, with the device's paths. */
function application(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      env: { PATH: process.env.PATH ?? '', HOME: root, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface TokenAnswer {
  token: string;
  expiresAt: string;
  connection: { connectionId: string; type: string; url: string; database: string };
}

/** A device running `trustlink-agent run`, and where its application finds the agent. */
interface Device {
  label: string;
  deviceId: string;
  daemon: RunningAgent;
  configFile: string;
  socket: string;
  credentialsDir: string;
  connection: Connection;
  db: DatabaseTarget;
}

const claimsOf = (jwt: string) =>
  jwt
    .split('.')
    .slice(0, 2)
    .map((x) => JSON.parse(Buffer.from(x, 'base64url').toString('utf8'))) as [
    Record<string, unknown>,
    Record<string, number | string>,
  ];

for (const dialect of TEST_DIALECTS) {
  describe(`an application writes to a database through trustlink-agent run, platform on ${dialect}`, () => {
    let tpm: Swtpm;
    let server: TestServer;
    let admin: TestPrincipal;
    let pgDb: DatabaseTarget;
    let mariaDb: DatabaseTarget;
    const devices: Device[] = [];
    // The platform's clock is real time plus what a test adds (to let tokens expire).
    let ahead = 0;

    /** The local API, over the socket, as the docs show it. */
    const askToken = (d: Device) =>
      curl(['-X', 'POST', '--unix-socket', d.socket, 'http://agent/v1/database-token']);
    /** One record to the data endpoint, trusting the instance root of the credentials directory. */
    const writeRecord = (d: Device, url: string, token: string, doc: unknown) =>
      curl([
        '--cacert',
        path.join(d.credentialsDir, 'ca-bundle.pem'),
        '-H',
        `authorization: Bearer ${token}`,
        '-H',
        'content-type: application/json',
        '-d',
        JSON.stringify(doc),
        `${url}/readings`,
      ]);
    const freshToken = async (d: Device) => {
      const r = await askToken(d);
      expect(r.status, r.body).toBe(200);
      return r.json<TokenAnswer>();
    };
    const rowsOf = async (d: Device) =>
      (await d.db.rows('readings')).filter((r) => r.device_id === d.deviceId);

    beforeAll(async () => {
      [tpm, pgDb, mariaDb] = await Promise.all([startSwtpm(), pgTarget(), mariaTarget()]);
      // The targets are on loopback: the operator allow-lists them, as tests must.
      server = await startTestServer(dialect, {
        env: { TRUSTLINK_OUTBOUND_ALLOW_LIST: '127.0.0.1' },
        now: () => new Date(Date.now() + ahead),
      });
      ({ admin } = await createTestUsers(server));
      const setups = [
        { label: 'tpm', type: 'postgresql', url: 'postgresql://127.0.0.1:5432', db: pgDb },
        { label: 'file', type: 'mariadb', url: 'mariadb://127.0.0.1:3306', db: mariaDb },
      ] as const;
      for (const s of setups) {
        const connection = await createDatabaseConnection(server, admin, {
          name: `Agent ${s.type}`,
          type: s.type,
          url: s.url,
          database: s.db.name,
          dataSource: `line-${s.label}`,
          tls: false,
          username: s.db.user,
          password: s.db.password,
        });
        // The shortest lifetime a policy allows, so that a test can let a token expire.
        const { batchId } = await databaseDirectPolicyAndBatch(
          server,
          admin,
          `Agent DD ${s.type}`,
          connection.id,
          { value: 1, unit: 'minutes' },
        );
        const cfg = writeAgentConfig(path.join(root, `${dialect}-${s.label}`), {
          platformUrl: server.deviceUrl,
          rootPem: server.rootPem,
          keyStore: s.label === 'tpm' ? { type: 'tpm', tcti: tpm.tcti } : { type: 'file' },
          // Check-ins an hour apart: what the agent learns in between, it learns through the
          // local API.
          checkInIntervalSeconds: 3600,
        });
        const made = agent(['manufacture', '--config', cfg.file]);
        expect(made.code, made.stderr).toBe(0);
        const deviceId = made.stdout.trim();
        await register(server, admin, batchId, deviceId);
        const daemon = startAgent(cfg.file);
        devices.push({
          label: s.label,
          deviceId,
          daemon,
          configFile: cfg.file,
          socket: path.join(cfg.runDir, 'agent.sock'),
          credentialsDir: cfg.credentialsDir,
          connection,
          db: s.db,
        });
      }
      for (const d of devices) {
        await d.daemon.waitFor(/info local API listening/);
        await d.daemon.waitFor(/info certificate enrolled serial=/);
      }
    });
    afterAll(async () => {
      for (const d of devices) await d.daemon.stop().catch(() => undefined);
      await server?.close();
      await tpm?.stop();
      await Promise.all([pgDb?.drop(), mariaDb?.drop()]);
    });

    it('ok/the documented application writes a record into PostgreSQL (TPM device) and MariaDB (file key)', async () => {
      const script = agentDocBlock('agent-database-write');
      for (const d of devices) {
        const r = await application(script, { SOCK: d.socket, CREDS: d.credentialsDir });
        expect(r.code, `${d.label}: ${r.stdout}\n${r.stderr}`).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({
          collection: 'readings',
          deviceId: d.deviceId,
        });
        const rows = await rowsOf(d);
        expect(rows).toHaveLength(1);
        expect(rows[0]!.document).toEqual({ temperature: 21.5, unit: 'C' });
        expect(Math.abs(new Date(rows[0]!.received_at).getTime() - Date.now())).toBeLessThan(
          120_000,
        );
        // Nothing of another device in that table: the record is this device's alone.
        expect(await d.db.rows('readings')).toHaveLength(1);

        // What the application was handed: a token for its connection, signed with the
        // connection's key, naming this device; the credentials index named the same endpoint.
        const t = await freshToken(d);
        expect(t.connection).toMatchObject({
          connectionId: d.connection.id,
          type: d.connection.type,
          database: d.db.name,
          url: `${server.deviceUrl}/device/v1/data`,
        });
        const [header, claims] = claimsOf(t.token);
        expect(header).toEqual({ alg: 'ES256', typ: 'JWT', kid: d.connection.keyId });
        expect(claims).toMatchObject({
          sub: d.deviceId,
          aud: d.connection.id,
          iss: server.runtime.instance.id,
        });
        expect(Number(claims.exp) - Number(claims.iat)).toBe(60);
        const index = JSON.parse(
          readFileSync(path.join(d.credentialsDir, 'credentials.json'), 'utf8'),
        );
        expect(index.database).toMatchObject({
          connectionId: d.connection.id,
          url: t.connection.url,
        });
      }
    });

    it('fail/the same token after its expiry is refused; the agent hands out a new one that works', async () => {
      const held = new Map<Device, TokenAnswer>();
      for (const d of devices) {
        const t = await freshToken(d);
        expect((await writeRecord(d, t.connection.url, t.token, { when: 'fresh' })).status).toBe(
          201,
        );
        held.set(d, t);
      }
      // One minute of lifetime and 30 seconds of leeway later, with a margin.
      ahead += 2 * 60_000;
      for (const d of devices) {
        const before = (await rowsOf(d)).length;
        const t = held.get(d)!;
        const late = await writeRecord(d, t.connection.url, t.token, { when: 'expired' });
        expect(late.status, late.body).toBe(401);
        expect(late.type).toMatch(/^application\/problem\+json/);
        expect((await rowsOf(d)).length).toBe(before);
        const renewed = await freshToken(d);
        expect(renewed.token).not.toBe(t.token);
        expect(Date.parse(renewed.expiresAt)).toBeGreaterThan(Date.parse(t.expiresAt));
        const ok = await writeRecord(d, renewed.connection.url, renewed.token, { when: 'renewed' });
        expect(ok.status, ok.body).toBe(201);
        expect((await rowsOf(d)).map((r) => r.document)).toContainEqual({ when: 'renewed' });
        expect((await rowsOf(d)).map((r) => r.document)).not.toContainEqual({ when: 'expired' });
      }
    });

    it('fail/a forged token (same header and claims, signed with another key) is refused', async () => {
      for (const d of devices) {
        const t = await freshToken(d);
        const input = t.token.split('.').slice(0, 2).join('.');
        const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const signature = sign('sha256', Buffer.from(input), {
          key: forger.privateKey,
          dsaEncoding: 'ieee-p1363',
        });
        const forged = `${input}.${signature.toString('base64url')}`;
        const before = (await rowsOf(d)).length;
        const r = await writeRecord(d, t.connection.url, forged, { forged: true });
        expect(r.status, r.body).toBe(401);
        // The device's own claims with the signature cut off, or with alg none: refused too.
        expect((await writeRecord(d, t.connection.url, `${input}.`, { forged: true })).status).toBe(
          401,
        );
        expect((await rowsOf(d)).length).toBe(before);
        // The genuine token still writes.
        expect((await writeRecord(d, t.connection.url, t.token, { genuine: true })).status).toBe(
          201,
        );
      }
    });

    it('fail/revoked: the local API answers 403, an issued token is refused, the agent stops', async () => {
      for (const [i, d] of devices.entries()) {
        const t = await freshToken(d);
        // An application listening to the agent's events, as the docs show it.
        const listener = spawn('curl', [
          '-sN',
          '--unix-socket',
          d.socket,
          'http://agent/v1/events',
        ]);
        let heard = '';
        listener.stdout.on('data', (c: Buffer) => (heard += c.toString()));
        const listenerDone = new Promise((resolve) => listener.once('close', resolve));
        await expect.poll(() => heard, { timeout: 10_000 }).toMatch(/event: hello/);
        const rev = await server.request('POST', `/api/v1/devices/${d.deviceId}/revoke`, {
          headers: admin.headers,
          body: { reason: 'keyCompromise' },
        });
        expect(rev.status, rev.text).toBe(200);
        const before = (await rowsOf(d)).length;
        const w = await writeRecord(d, t.connection.url, t.token, { after: 'revocation' });
        expect(w.status, w.body).toBe(403);
        expect(w.json()).toMatchObject({ type: expect.stringContaining('device-revoked') });
        const asked = await askToken(d);
        expect(asked.status, asked.body).toBe(403);
        expect(asked.type).toMatch(/^application\/problem\+json/);
        expect(asked.json()).toMatchObject({ title: 'device revoked' });
        expect((await rowsOf(d)).length).toBe(before);
        // The agent learnt it through the local API, long before its next check-in: it stops
        // as it does when a check-in finds the revocation.
        await d.daemon.waitFor(/error device revoked/);
        expect(await d.daemon.exited()).toBe(RUN_EXIT.revoked);
        await listenerDone;
        expect(heard).toMatch(/event: revoked\n/);
        const status = agent(['status', '--json', '--config', d.configFile]);
        expect(JSON.parse(status.stdout)).toMatchObject({ state: 'revoked' });
        // The other device is not affected.
        const other = devices[i + 1];
        if (other) {
          const o = await freshToken(other);
          expect(
            (await writeRecord(other, o.connection.url, o.token, { still: 'ok' })).status,
          ).toBe(201);
        }
      }
    });
  });
}
