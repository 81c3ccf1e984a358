import https from 'node:https';
import type { Socket } from 'node:net';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { EnrolResponse } from '@trustlink/protocol';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeviceStateRepo } from '../src/devices/device-state-repo.js';
import { HUB_DEVICE_REVOKED_TOPIC } from '../src/hubs/hubs-module.js';
import { toPem } from '../src/pki/certificate-builder.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { makeCsr } from '../src/test-helpers/test-csr.js';
import {
  createPolicyAndBatch,
  devicePost,
  enrolBody,
  proofHeaders,
  register,
  testDevice,
  tlsAs,
} from '../src/test-helpers/test-devices.js';
import {
  closed,
  connectMqtt,
  eventually,
  createHubFleet,
  enrolMqttDevice,
  revokeMqttDevice,
  type TestMqttDevice,
} from '../src/test-helpers/test-mqtt.js';
import { runCli } from '../src/test-helpers/test-cli.js';
import { openssl } from '../src/test-helpers/test-openssl.js';
import { createTestDatabase, type TestDatabase } from '../src/test-helpers/test-databases.js';
import {
  httpsRequest,
  startTestServer,
  type RequestOptions,
  type TestServer,
} from '../src/test-helpers/test-server.js';

const REDIS_URL = process.env.TRUSTLINK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The reconciles run this often, so a lost message is caught well within the test's bounds. */
const RECONCILE_SECONDS = 2;

/** One request on a kept-alive agent; resolves with the status and the socket it used. */
function onAgent(
  server: TestServer,
  agent: https.Agent,
  path: string,
): Promise<{ status: number; socket: Socket }> {
  const url = new URL(path, server.deviceUrl);
  return new Promise((resolve, reject) => {
    let socket: Socket | undefined;
    const req = https.request(
      { hostname: '127.0.0.1', servername: 'localhost', port: url.port, path, agent },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: socket! }));
      },
    );
    req.on('socket', (s) => (socket = s as Socket));
    req.on('error', reject);
    req.end();
  });
}

/** Resolves when the socket closes; rejects after `ms`. */
function socketClosed(s: Socket, ms: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (s.destroyed) return resolve(0);
    const t = setTimeout(() => reject(new Error('the connection stayed open')), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(Date.now() - started);
    });
  });
}

/** The next message on a topic filter the client is subscribed to, or a timeout. */
function nextMessage(c: MqttClient, ms = 5000): Promise<{ topic: string; payload: string }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no message arrived')), ms);
    c.once('message', (topic, payload) => {
      clearTimeout(t);
      resolve({ topic, payload: payload.toString() });
    });
  });
}

/**
 * Replicas need PostgreSQL (SQLite is one process's file), so this runs on PostgreSQL only:
 * two complete servers on one database and one Redis, with the same master key, as two
 * `trustlink serve` processes behind a load balancer would be.
 */
describe('two replicas on one PostgreSQL and one Redis', () => {
  let a: TestServer;
  let b: TestServer;
  let admin: TestPrincipal;
  let hubId: string;
  let otherHubId: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    const env = {
      TRUSTLINK_MASTER_KEY: randomBytes(32).toString('base64'),
      TRUSTLINK_REDIS_URL: REDIS_URL,
      TRUSTLINK_MQTT_RECONCILE_SECONDS: String(RECONCILE_SECONDS),
      TRUSTLINK_DEVICE_RECONCILE_SECONDS: String(RECONCILE_SECONDS),
      TRUSTLINK_FIRMWARE_STORE: 'database',
    };
    a = await startTestServer('postgres', { env });
    b = await startTestServer('postgres', { env, database: a.database });
    ({ admin } = await createTestUsers(a));
    const mk = async (server: TestServer, body: unknown) => {
      const res = await server.request('POST', '/api/v1/hubs', { headers: admin.headers, body });
      expect(res.status, res.text).toBe(201);
      return res.json<{ id: string }>().id;
    };
    // Devices may read their whole hub (`#`), so isolation between hubs is the only limit.
    const rules = { device: { publish: ['devices/{clientId}/#'], subscribe: ['#'] } };
    hubId = await mk(a, { name: 'Replicated broker', type: 'mqtt', settings: { rules } });
    otherHubId = await mk(b, { name: 'Other broker', type: 'mqtt', settings: { rules } });
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await b?.close({ keepData: true });
    await a?.close();
  });

  const mqttOn = async (server: TestServer, d: TestMqttDevice) => {
    const c = await connectMqtt(server.mqttPort, server.rootPem, d, { clientId: d.deviceId });
    clients.push(c);
    return c;
  };

  it('both replicas are one instance: enrol on A, renew on B', async () => {
    expect(b.runtime.instance.id).toBe(a.runtime.instance.id);
    expect(a.runtime.bus.kind).toBe('redis');
    expect(b.runtime.bus.replicaId).not.toBe(a.runtime.bus.replicaId);
    const { batchId } = await createPolicyAndBatch(a, admin, 'Replicas');
    const d = await testDevice();
    await register(a, admin, batchId, d.deviceId);
    const enrolled = await devicePost(a, '/device/v1/enrol', enrolBody(d), tlsAs(d));
    expect(enrolled.status, enrolled.text).toBe(200);
    const first = enrolled.json<EnrolResponse>();
    const body = JSON.stringify({ csr: makeCsr(d).toString('base64url') });
    const renewed = await devicePost(b, '/device/v1/renew', body, {
      headers: await proofHeaders(b, d, 'renew', '/device/v1/renew', body),
    });
    expect(renewed.status, renewed.text).toBe(200);
    const second = renewed.json<EnrolResponse>();
    expect(second.certificate).not.toBe(first.certificate);
    // Either replica answers for the renewed certificate.
    const certPem = toPem(Buffer.from(second.certificate, 'base64url'));
    for (const server of [a, b]) {
      const st = await server.deviceRequest('GET', '/device/v1/status', tlsAs(d, certPem));
      expect(st.status, st.text).toBe(200);
    }
  });

  it('a message published on replica A reaches a subscriber on replica B, within its hub only', async () => {
    const fleet = await createHubFleet(a, hubId);
    const otherFleet = await createHubFleet(a, otherHubId);
    const publisher = await mqttOn(a, await enrolMqttDevice(a, fleet));
    const subscriberB = await mqttOn(b, await enrolMqttDevice(a, fleet));
    const subscriberA = await mqttOn(a, await enrolMqttDevice(a, fleet));
    const outsider = await mqttOn(b, await enrolMqttDevice(a, otherFleet));
    await subscriberB.subscribeAsync('devices/#', { qos: 1 });
    await subscriberA.subscribeAsync('devices/#', { qos: 1 });
    await outsider.subscribeAsync('#', { qos: 1 });
    const leaked: string[] = [];
    outsider.on('message', (topic) => leaked.push(topic));

    const topic = `devices/${publisher.options.clientId}/telemetry`;
    const atB = nextMessage(subscriberB);
    const atA = nextMessage(subscriberA);
    await publisher.publishAsync(topic, 'across replicas', { qos: 1 });
    expect(await atB).toEqual({ topic, payload: 'across replicas' });
    // The publisher's own replica delivers it once too (no duplicate through the fabric).
    expect(await atA).toEqual({ topic, payload: 'across replicas' });
    const again: string[] = [];
    subscriberA.on('message', (t) => again.push(t));
    subscriberB.on('message', (t) => again.push(t));
    // A retained message published on B is kept on A for a subscriber that comes later.
    await subscriberB.publishAsync(
      `devices/${subscriberB.options.clientId}/state`,
      'retained on B',
      { qos: 1, retain: true },
    );
    await new Promise((r) => setTimeout(r, 1000));
    const late = await mqttOn(a, await enrolMqttDevice(a, fleet));
    const retained = nextMessage(late);
    await late.subscribeAsync(`devices/${subscriberB.options.clientId}/state`, { qos: 1 });
    expect(await retained).toMatchObject({ payload: 'retained on B' });
    // Each subscriber got the telemetry once, and the state message once: nothing more.
    expect(again.filter((t) => t === topic)).toEqual([]);
    expect(leaked).toEqual([]);
  });

  /** A device enrolled through A's device API, with its certificate. */
  const enrolOnA = async () => {
    const { batchId } = await createPolicyAndBatch(
      a,
      admin,
      `Kept-alive ${randomBytes(3).toString('hex')}`,
    );
    const d = await testDevice();
    await register(a, admin, batchId, d.deviceId);
    const r = await devicePost(a, '/device/v1/enrol', enrolBody(d), tlsAs(d));
    expect(r.status, r.text).toBe(200);
    const certPem = toPem(Buffer.from(r.json<EnrolResponse>().certificate, 'base64url'));
    return {
      d,
      agent: new https.Agent({ keepAlive: true, ca: b.rootPem, cert: certPem, key: d.keyPem }),
    };
  };

  it('revocation on A cuts the device off on B at once: MQTT and the kept-alive device API connection', async () => {
    const m = await enrolMqttDevice(a, await createHubFleet(a, hubId));
    const onB = await mqttOn(b, m);
    const { d, agent } = await enrolOnA();
    try {
      const first = await onAgent(b, agent, '/device/v1/status');
      expect(first.status).toBe(200);
      expect((await onAgent(b, agent, '/device/v1/status')).socket).toBe(first.socket);
      const heardOnB: string[] = [];
      const stop = b.runtime.deviceEvents.on((e) => {
        if (e.type === 'revoked') heardOnB.push(e.deviceId);
      });
      const httpClosed = socketClosed(first.socket, 10_000);
      const mqttClosed = closed(onB, 10_000);
      const t0 = Date.now();
      for (const id of [m.deviceId, d.deviceId]) {
        const res = await a.request('POST', `/api/v1/devices/${id}/revoke`, {
          headers: admin.headers,
          body: { reason: 'keyCompromise' },
        });
        expect(res.status, res.text).toBe(200);
      }
      await Promise.all([httpClosed, mqttClosed]);
      stop();
      // B heard both revocations over the bus (it made neither itself).
      expect(heardOnB.sort()).toEqual([m.deviceId, d.deviceId].sort());
      // Through the bus: sooner than the reconcile would (bounded loosely: the machine is
      // shared; the lost-message test below shows the reconcile on its own).
      expect(Date.now() - t0).toBeLessThan(RECONCILE_SECONDS * 1000 + 5000);
      const third = await onAgent(b, agent, '/device/v1/status');
      expect(third.socket).not.toBe(first.socket);
      expect(third.status).toBe(403);
      await expect(mqttOn(b, m)).rejects.toThrow();
    } finally {
      agent.destroy();
    }
  });

  it('with the bus message lost, the reconcile still cuts the device off on B', async () => {
    const m = await enrolMqttDevice(a, await createHubFleet(a, hubId));
    const onB = await mqttOn(b, m);
    const { d, agent } = await enrolOnA();
    try {
      const first = await onAgent(b, agent, '/device/v1/status');
      expect(first.status).toBe(200);
      // Revoked in the database with no event and no outbox entry: every message is lost.
      await revokeMqttDevice(a, m, { quiet: true });
      await createDeviceStateRepo(a.runtime.db.kysely).markRevoked(
        a.runtime.instance.id,
        d.deviceId,
        new Date().toISOString(),
      );
      const bound = RECONCILE_SECONDS * 1000 * 2 + 8000;
      const [httpMs] = await Promise.all([socketClosed(first.socket, bound), closed(onB, bound)]);
      expect(httpMs).toBeGreaterThan(0); // closed later by the reconcile, not at once
      expect((await onAgent(b, agent, '/device/v1/status')).status).toBe(403);
    } finally {
      agent.destroy();
    }
  });

  it('a firmware image uploaded on A downloads from B byte-identical, ranges too', async () => {
    // Over one chunk (256 KiB), so the download crosses chunk boundaries.
    const image = randomBytes(700_000);
    const up = await a.request('POST', '/api/v1/firmware?name=Replicated&version=1.0.0', {
      body: image,
      headers: { ...admin.headers, 'content-type': 'application/octet-stream' },
    });
    expect(up.status, up.text).toBe(201);
    const { id, sha256 } = up.json<{ id: string; sha256: string }>();
    expect(sha256).toBe(createHash('sha256').update(image).digest('hex'));
    const whole = await b.request('GET', `/api/v1/firmware/${id}/image`, {
      headers: admin.headers,
    });
    expect(whole.status).toBe(200);
    expect(whole.body.equals(image)).toBe(true);
    const part = await b.request('GET', `/api/v1/firmware/${id}/image`, {
      headers: { ...admin.headers, range: 'bytes=262000-262299' },
    });
    expect(part.status).toBe(206);
    expect(part.body.equals(image.subarray(262000, 262300))).toBe(true);
    // Nothing was written under either replica's data directory: the bytes are in PostgreSQL.
    for (const server of [a, b])
      expect(
        existsSync(path.join(server.config.dataDir, 'firmware', a.runtime.instance.id, sha256)),
      ).toBe(false);
  });

  it('background jobs run on one replica, outbox entries are carried out once', async () => {
    const k = a.runtime.db.kysely;
    const leases = await k.selectFrom('job_leases').select(['name', 'holder']).execute();
    expect(leases.map((l) => l.name)).toEqual(expect.arrayContaining(['pki']));
    for (const l of leases) expect(l.holder).toMatch(/^replica-/);
    // Each revocation above left one hub.device-revoked intent: done, in one attempt.
    const revokedRows = () =>
      k
        .selectFrom('outbox')
        .select(['status', 'attempts'])
        .where('topic', '=', HUB_DEVICE_REVOKED_TOPIC)
        .execute();
    await eventually(
      async () => (await revokedRows()).every((r) => r.status === 'done'),
      30_000,
      'the revocation intents to be done',
    );
    const rows = await revokedRows();
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r).toMatchObject({ status: 'done', attempts: 1 });
  });

  it('outbox entries are delivered exactly once while both replicas claim them side by side', async () => {
    // A recording receiver on both replicas (as a hub would be): a second delivery of any
    // entry would show as a second record of its subject.
    const topic = `test.replicated-${randomBytes(4).toString('hex')}`;
    const delivered: { subject: string; by: 'a' | 'b' }[] = [];
    for (const [by, server] of [
      ['a', a],
      ['b', b],
    ] as const)
      server.runtime.outboxWorker.register(topic, async (e) => {
        delivered.push({ subject: e.subject, by });
        // A delivery takes a moment, as a network call does, so claims overlap.
        await new Promise((r) => setTimeout(r, 5));
      });
    const n = 200;
    const subjects = Array.from({ length: n }, (_, i) => `subject-${i}`);
    await a.runtime.db.kysely.transaction().execute(async (tx) => {
      for (const subject of subjects)
        await a.runtime.outbox.enqueue(
          tx,
          { instanceId: a.runtime.instance.id, topic, subject, payload: { subject } },
          new Date(),
        );
    });
    // Both workers' loops run (every 2 s); besides, both claim at the same moment, round after
    // round, which is where a claim that is not exclusive would hand one entry to both.
    const pending = () =>
      a.runtime.db.kysely
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('topic', '=', topic)
        .where('status', '!=', 'done')
        .executeTakeFirstOrThrow();
    await eventually(
      async () => {
        await Promise.all([a.runtime.outboxWorker.runOnce(), b.runtime.outboxWorker.runOnce()]);
        return Number((await pending()).n) === 0;
      },
      60_000,
      'every test entry to be done',
    );
    const counts = new Map<string, number>();
    for (const d of delivered) counts.set(d.subject, (counts.get(d.subject) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...subjects].sort());
    expect([...counts.values()].filter((c) => c !== 1)).toEqual([]);
    expect(delivered).toHaveLength(n);
    // Both replicas took part, so "once" was tested against a real competitor.
    expect(delivered.some((d) => d.by === 'a')).toBe(true);
    expect(delivered.some((d) => d.by === 'b')).toBe(true);
    const attempts = await a.runtime.db.kysely
      .selectFrom('outbox')
      .select('attempts')
      .where('topic', '=', topic)
      .execute();
    expect(attempts.every((r) => Number(r.attempts) === 1)).toBe(true);
  });

  it('a revocation on A makes one new CRL, whichever replica builds it; later runs on both build none', async () => {
    const k = a.runtime.db.kysely;
    const i = a.runtime.instance.id;
    const { batchId } = await createPolicyAndBatch(a, admin, 'CRL on replicas');
    const d = await testDevice();
    await register(a, admin, batchId, d.deviceId);
    const r = await devicePost(a, '/device/v1/enrol', enrolBody(d), tlsAs(d));
    expect(r.status, r.text).toBe(200);
    const cert = new X509Certificate(
      toPem(Buffer.from(r.json<EnrolResponse>().certificate, 'base64url')),
    );
    const ca = (await a.runtime.pkiServices.caRepo.list(i, 'issuing')).find(
      (c) => new X509Certificate(c.der).subject === cert.issuer,
    )!;
    // Both replicas settle whatever the enrolment set off, so the count starts from rest.
    await Promise.all([a.runtime.pkiServices.crl.settle(), b.runtime.pkiServices.crl.settle()]);
    const numberNow = async () =>
      Number(
        (
          await k
            .selectFrom('crls')
            .select('number')
            .where('instance_id', '=', i)
            .where('issuer_id', '=', ca.id)
            .executeTakeFirst()
        )?.number ?? 0,
      );
    const before = await numberNow();
    const revoked = await a.request('POST', `/api/v1/devices/${d.deviceId}/revoke`, {
      headers: admin.headers,
      body: { reason: 'keyCompromise' },
    });
    expect(revoked.status, revoked.text).toBe(200);
    await eventually(async () => (await numberNow()) > before, 30_000, 'the CRL to be rebuilt');
    // Both replicas run the job at the same moment, twice over (as their loops would after a
    // lease handover): the CRL is current, so neither signs another.
    for (let round = 0; round < 2; round++)
      await Promise.all([
        a.runtime.pkiServices.crl.rebuildDue(i),
        b.runtime.pkiServices.crl.rebuildDue(i),
      ]);
    await Promise.all([a.runtime.pkiServices.crl.settle(), b.runtime.pkiServices.crl.settle()]);
    expect(await numberNow()).toBe(before + 1);
    // The CRL B publishes is that one, and it lists the certificate.
    const crl = await b.pkiRequest('GET', `/pki/${i}/${ca.id}.crl`);
    expect(crl.status).toBe(200);
    const text = openssl(['crl', '-inform', 'DER', '-noout', '-text'], crl.body).out;
    expect(text).toMatch(new RegExp(`X509v3 CRL Number:\\s*\\n?\\s*${before + 1}\\b`));
    expect(text.toUpperCase()).toContain(cert.serialNumber.toUpperCase());
  });

  it('the expiry sweep run by both replicas at once expires each device once, with one audit entry', async () => {
    const k = a.runtime.db.kysely;
    const { batchId } = await createPolicyAndBatch(a, admin, 'Expiring on replicas');
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const d = await testDevice();
      await register(a, admin, batchId, d.deviceId);
      const r = await devicePost(i % 2 ? b : a, '/device/v1/enrol', enrolBody(d), tlsAs(d));
      expect(r.status, r.text).toBe(200);
      ids.push(d.deviceId);
    }
    // Their certificates ran out a minute ago (as if the clock had moved on).
    await k
      .updateTable('devices')
      .set({ cert_not_after: new Date(Date.now() - 60_000).toISOString() })
      .where('id', 'in', ids)
      .execute();
    // The overlap a lease handover allows: both replicas sweep at the same moment, twice.
    for (let round = 0; round < 2; round++)
      await Promise.all([a.runtime.enrolment.jobs.runOnce(), b.runtime.enrolment.jobs.runOnce()]);
    const states = await k
      .selectFrom('devices')
      .select(['id', 'state'])
      .where('id', 'in', ids)
      .execute();
    expect(states.map((s) => s.state)).toEqual(ids.map(() => 'expired'));
    const entries = await k
      .selectFrom('audit_log')
      .select('target_id')
      .where('action', '=', 'device.expire')
      .where('target_id', 'in', ids)
      .execute();
    expect(entries.map((e) => e.target_id).sort()).toEqual([...ids].sort());
  });
});

/** A `trustlink serve` child process and the URLs it printed. */
interface Spawned {
  child: ChildProcess;
  managementUrl: string;
  deviceUrl: string;
  rootPem: string;
}

/** Starts `trustlink serve` from source, as a separate process; resolves once it is running. */
function spawnServe(env: Record<string, string>): Promise<Spawned> {
  const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 90_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const mgmt = /Console and management API\s+(https:\/\/\S+)/.exec(err);
      const device = /Device API and EST\s+(https:\/\/\S+?)\/device\/v1/.exec(err);
      const root = /OEM root CA\s+(\S+\.pem)/.exec(err);
      if (mgmt && device && root) {
        clearTimeout(t);
        resolve({
          child,
          managementUrl: mgmt[1]!,
          deviceUrl: device[1]!,
          rootPem: readFileSync(root[1]!, 'utf8'),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
  });
}

/** SIGTERM, then the exit code (or a rejection if the process does not stop). */
function stopProcess(child: ChildProcess, ms = 20_000): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the process did not stop on SIGTERM'));
    }, ms);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

describe('two spawned `trustlink serve` processes on one PostgreSQL and one Redis', () => {
  let database: TestDatabase;
  const homes: string[] = [];
  const running: Spawned[] = [];

  afterAll(async () => {
    for (const s of running) await stopProcess(s.child).catch(() => undefined);
    await database?.drop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  /** The request helpers of a test server, for a spawned process. */
  const asServer = (s: Spawned) =>
    ({
      deviceUrl: s.deviceUrl,
      request: (m: string, p: string, o?: RequestOptions) =>
        httpsRequest(s.managementUrl, s.rootPem, m, p, o),
      deviceRequest: (m: string, p: string, o?: RequestOptions) =>
        httpsRequest(s.deviceUrl, s.rootPem, m, p, o),
    }) as unknown as TestServer;

  it('an image uploaded through one process downloads from the other; a revocation by a third process cuts a kept-alive connection off; both stop cleanly', async () => {
    database = await createTestDatabase('postgres');
    const common = {
      TRUSTLINK_DATABASE_URL: database.url,
      TRUSTLINK_REDIS_URL: REDIS_URL,
      TRUSTLINK_FIRMWARE_STORE: 'database',
      TRUSTLINK_MASTER_KEY: randomBytes(32).toString('base64'),
      TRUSTLINK_MANAGEMENT_PORT: '0',
      TRUSTLINK_DEVICE_PORT: '0',
      TRUSTLINK_MQTT_PORT: '0',
      TRUSTLINK_PKI_HTTP_PORT: '0',
      TRUSTLINK_BIND_ADDRESS: '127.0.0.1',
      TRUSTLINK_LOG_LEVEL: 'warn',
      // Far longer than the test: a connection closed in time was closed by the bus.
      TRUSTLINK_DEVICE_RECONCILE_SECONDS: '3600',
    };
    const envOf = () => {
      const home = mkdtempSync(path.join(os.tmpdir(), 'trustlink-replica-'));
      homes.push(home);
      return { ...common, TRUSTLINK_DATA_DIR: path.join(home, 'data') };
    };
    // The first start creates the instance; the second joins it.
    const first = await spawnServe(envOf());
    running.push(first);
    const second = await spawnServe(envOf());
    running.push(second);
    expect(second.rootPem).toBe(first.rootPem);

    const local = { ...envOf(), TRUSTLINK_LOG_LEVEL: 'silent' };
    const add = await runCli(
      [
        ...['user', 'add', '--username', 'ops', '--email', 'ops@example.test'],
        ...['--first-name', 'Olga', '--last-name', 'Ops', '--role', 'administrator'],
        ...['--no-two-factor', '--password-stdin'],
      ],
      local,
      'a sturdy operator passphrase\n',
    );
    expect(add.code, add.stderr).toBe(0);
    const made = await runCli(['token', 'create', '--name', 'replicas', '--user', 'ops'], local);
    expect(made.code, made.stderr).toBe(0);
    const headers = { authorization: `Bearer ${made.stdout.trim()}` };

    const image = randomBytes(600_000);
    const up = await httpsRequest(
      first.managementUrl,
      first.rootPem,
      'POST',
      '/api/v1/firmware?name=Spawned&version=1.0.0',
      { body: image, headers: { ...headers, 'content-type': 'application/octet-stream' } },
    );
    expect(up.status, up.text).toBe(201);
    const { id } = up.json<{ id: string }>();
    const down = await httpsRequest(
      second.managementUrl,
      second.rootPem,
      'GET',
      `/api/v1/firmware/${id}/image`,
      { headers },
    );
    expect(down.status, down.text).toBe(200);
    expect(down.body.equals(image)).toBe(true);

    // A device enrolled through the first process keeps a connection open to the second; the
    // `trustlink device revoke` command (a third process) tells both over Redis.
    const admin = { headers } as unknown as TestPrincipal;
    const { batchId } = await createPolicyAndBatch(asServer(first), admin, 'Spawned');
    const d = await testDevice();
    await register(asServer(first), admin, batchId, d.deviceId);
    const enrolled = await devicePost(asServer(first), '/device/v1/enrol', enrolBody(d), tlsAs(d));
    expect(enrolled.status, enrolled.text).toBe(200);
    const certPem = toPem(Buffer.from(enrolled.json<EnrolResponse>().certificate, 'base64url'));
    const agent = new https.Agent({
      keepAlive: true,
      ca: second.rootPem,
      cert: certPem,
      key: d.keyPem,
    });
    try {
      const kept = await onAgent(asServer(second), agent, '/device/v1/status');
      expect(kept.status).toBe(200);
      const cut = socketClosed(kept.socket, 30_000);
      const revoked = await runCli(
        ['device', 'revoke', d.deviceId, '--reason', 'keyCompromise'],
        local,
      );
      expect(revoked.code, revoked.stderr).toBe(0);
      await cut;
      expect((await onAgent(asServer(second), agent, '/device/v1/status')).status).toBe(403);
    } finally {
      agent.destroy();
    }

    // Redis connections, brokers and leases are let go: both processes exit on SIGTERM.
    expect(await stopProcess(second.child)).toBe(0);
    expect(await stopProcess(first.child)).toBe(0);
    running.length = 0;
  }, 240_000);
});
