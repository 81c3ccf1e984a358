import https from 'node:https';
import type { Socket } from 'node:net';
import { X509Certificate } from 'node:crypto';
import type { EnrolResponse } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createInstanceRepo } from '../src/instances/instance-repo.js';
import { createDeviceLifecycleRepo } from '../src/devices/device-lifecycle-repo.js';
import type { DeviceEvent } from '../src/devices/device-events.js';
import { toPem } from '../src/pki/certificate-builder.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  createPolicyAndBatch,
  devicePost,
  enrolBody,
  proofHeaders,
  register,
  testDevice,
  tlsAs,
  type TestDevice,
} from '../src/test-helpers/test-devices.js';
import { openssl, scratch } from '../src/test-helpers/test-openssl.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

/** One request on a given agent; resolves with the status and the socket it used. */
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

for (const dialect of TEST_DIALECTS) {
  describe(`device revocation on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    let batchId: string;
    const events: DeviceEvent[] = [];

    beforeAll(async () => {
      server = await startTestServer(dialect);
      ({ admin, contributor } = await createTestUsers(server));
      ({ batchId } = await createPolicyAndBatch(server, admin, 'Revocation'));
      server.runtime.deviceEvents.on((e) => void events.push(e));
    });
    afterAll(async () => server?.close());

    const enrol = async (d: TestDevice, batch = batchId) => {
      await register(server, admin, batch, d.deviceId);
      const r = await devicePost(server, '/device/v1/enrol', enrolBody(d), tlsAs(d));
      expect(r.status, r.text).toBe(200);
      return toPem(Buffer.from(r.json<EnrolResponse>().certificate, 'base64url'));
    };
    const revoke = (id: string, who = contributor, reason = 'keyCompromise') =>
      server.request('POST', `/api/v1/devices/${id}/revoke`, {
        headers: who.headers,
        body: { reason },
      });

    it('ok/revocation reaches every live path: kept-alive connection, session, certificates, CRL', async () => {
      const d = await testDevice();
      const certPem = await enrol(d);
      const serial = new X509Certificate(certPem).serialNumber.toLowerCase().replace(/^(00)+/, '');
      const body = '{}';
      const s = await devicePost(server, '/device/v1/session', body, {
        headers: await proofHeaders(server, d, 'session', '/device/v1/session', body),
      });
      const bearer = { authorization: `Bearer ${s.json<{ token: string }>().token}` };
      expect(
        (await server.deviceRequest('GET', '/device/v1/status', { headers: bearer })).status,
      ).toBe(200);

      const agent = new https.Agent({
        keepAlive: true,
        ca: server.rootPem,
        cert: certPem,
        key: d.keyPem,
      });
      try {
        const first = await onAgent(server, agent, '/device/v1/status');
        expect(first.status).toBe(200);
        const second = await onAgent(server, agent, '/device/v1/status');
        expect(second.socket).toBe(first.socket); // the same kept-alive connection
        const closed = new Promise<void>((resolve) => first.socket.once('close', () => resolve()));

        const res = await revoke(d.deviceId);
        expect(res.status, res.text).toBe(200);
        expect(res.json()).toMatchObject({
          state: 'revoked',
          revocationReason: 'keyCompromise',
          certificates: [
            { serial, status: 'revoked', revocationReason: 'keyCompromise', current: true },
          ],
        });
        await closed; // the server cut the connection at once
        expect(
          server.runtime.enrolment.connections.count(server.runtime.instance.id, d.deviceId),
        ).toBe(0);
        const third = await onAgent(server, agent, '/device/v1/status');
        expect(third.socket).not.toBe(first.socket);
        expect(third.status).toBe(403);
      } finally {
        agent.destroy();
      }
      const st = await server.deviceRequest('GET', '/device/v1/status', tlsAs(d, certPem));
      expect(st.json()).toMatchObject({ type: 'https://trustlink.dev/problems/device-revoked' });
      expect(
        (await server.deviceRequest('GET', '/device/v1/status', { headers: bearer })).status,
      ).toBe(401);
      expect(events).toContainEqual({
        type: 'revoked',
        instanceId: server.runtime.instance.id,
        deviceId: d.deviceId,
        reason: 'keyCompromise',
      });

      // The issuing CA's CRL lists the certificate with its reason.
      await server.runtime.pkiServices.crl.settle();
      const issuer = new X509Certificate(certPem).issuer;
      const ca = (
        await server.runtime.pkiServices.caRepo.list(server.runtime.instance.id, 'issuing')
      ).find((c) => new X509Certificate(c.der).subject === issuer)!;
      const crl = await server.pkiRequest('GET', `/pki/${server.runtime.instance.id}/${ca.id}.crl`);
      const sc = scratch();
      try {
        const text = openssl([
          'crl',
          '-inform',
          'DER',
          '-in',
          sc.file('ca.crl', crl.body, true),
          '-noout',
          '-text',
        ]).out;
        expect(text.toLowerCase()).toContain(serial);
        expect(text).toMatch(/Key Compromise/);
      } finally {
        sc.remove();
      }

      const twice = await revoke(d.deviceId);
      expect(twice.status).toBe(409);
      const audit = (await server.runtime.audit.recent(server.runtime.instance.id, 30)).find(
        (e) => e.action === 'device.revoke',
      );
      expect(audit).toMatchObject({
        actor: { type: 'token', name: contributor.user.username },
        target: { type: 'device', id: d.deviceId },
        details: {
          reason: 'keyCompromise',
          sessionsEnded: 1,
          hubNotified: false,
          certificates: [serial],
        },
      });
    });

    it('ok/a revocation this process did not hear of is caught by the reconcile', async () => {
      const d = await testDevice();
      const certPem = await enrol(d);
      const agent = new https.Agent({
        keepAlive: true,
        ca: server.rootPem,
        cert: certPem,
        key: d.keyPem,
      });
      try {
        const first = await onAgent(server, agent, '/device/v1/status');
        const closed = new Promise<void>((resolve) => first.socket.once('close', () => resolve()));
        // Another replica revoked it: the database says so, no event reached this process.
        const lifecycle = createDeviceLifecycleRepo(server.runtime.db.kysely);
        await lifecycle.markRevoked(
          server.runtime.instance.id,
          d.deviceId,
          'superseded',
          new Date().toISOString(),
        );
        expect(await server.runtime.enrolment.connections.reconcile()).toBeGreaterThanOrEqual(1);
        await closed;
      } finally {
        agent.destroy();
      }
    });

    it('ok/a device of a policy with a hub: its hub is told through the outbox', async () => {
      const hub = await server.request('POST', '/api/v1/hubs', {
        headers: admin.headers,
        body: { name: 'Revocation hub', type: 'mqtt' },
      });
      expect(hub.status).toBe(201);
      const hubId = hub.json<{ id: string }>().id;
      const policy = await server.request('POST', '/api/v1/policies', {
        headers: admin.headers,
        body: {
          name: 'With hub',
          connectionType: 'iot-hub',
          hubId,
          deviceCertificate: { lifetime: { value: 1, unit: 'years' } },
          issuingCertificate: { lifetime: { value: 2, unit: 'years' } },
        },
      });
      expect(policy.status).toBe(201);
      const batch = await server.request('POST', '/api/v1/batches', {
        headers: admin.headers,
        body: { name: 'With hub', policyId: policy.json<{ id: string }>().id },
      });
      const hubBatch = batch.json<{ id: string }>().id;
      const d = await testDevice();
      await enrol(d, hubBatch);
      const res = await revoke(d.deviceId, admin, 'cessationOfOperation');
      expect(res.json()).toMatchObject({
        state: 'revoked',
        hubSync: [{ topic: 'hub.device-revoked' }],
      });
      const { instance } = server.runtime;
      const [entry] = await server.runtime.outbox.forSubject(instance.id, d.deviceId);
      expect(entry?.payload).toMatchObject({
        hubId,
        deviceId: d.deviceId,
        reason: 'cessationOfOperation',
      });
      // The hub's handler carries it out (the worker may already have run it).
      await server.runtime.outboxWorker.runOnce();
      const [done] = await server.runtime.outbox.forSubject(instance.id, d.deviceId);
      expect(done).toMatchObject({ topic: 'hub.device-revoked', status: 'done', lastError: null });
    });

    it('ok/devices listed by state and ID prefix; the dashboard figures', async () => {
      const d = await testDevice();
      await enrol(d);
      const registered = await testDevice();
      await register(server, admin, batchId, registered.deviceId);
      const list = await server.request(
        'GET',
        `/api/v1/devices?state=enrolled&q=${d.deviceId.slice(0, 12)}`,
        { headers: contributor.headers },
      );
      expect(list.json()).toMatchObject({
        total: 1,
        items: [{ id: d.deviceId, state: 'enrolled' }],
      });
      const revoked = await server.request(
        'GET',
        `/api/v1/devices?state=revoked&batchId=${batchId}`,
        {
          headers: contributor.headers,
        },
      );
      expect(revoked.json<{ total: number }>().total).toBe(2);
      const summary = await server.request('GET', '/api/v1/devices/summary', {
        headers: contributor.headers,
      });
      expect(summary.status).toBe(200);
      expect(summary.json()).toMatchObject({
        total: { devices: 5, enrolled: 1, renewed: 0, expired: 0, revoked: 3, registered: 1 },
        batches: expect.arrayContaining([
          {
            batchId,
            batchName: 'Revocation',
            counts: { devices: 4, enrolled: 1, renewed: 0, expired: 0, revoked: 2 },
          },
        ]),
      });
      expect(
        (
          await server.request('GET', `/api/v1/devices/${'0'.repeat(64)}`, {
            headers: admin.headers,
          })
        ).status,
      ).toBe(404);
      expect((await revoke('0'.repeat(64))).status).toBe(404);
      expect((await revoke(d.deviceId, contributor, 'no-such-reason')).status).toBe(400);
    });

    it('fail/another instance neither sees nor revokes a device', async () => {
      const d = await testDevice();
      await enrol(d);
      const other = randomUUID();
      await createInstanceRepo(server.runtime.db.kysely).insert({
        id: other,
        name: `other-${other}`,
        createdAt: new Date().toISOString(),
        claimedAt: null,
      });
      await server.runtime.audit.ensureChain(other);
      const svc = server.runtime.enrolment.deviceService;
      await expect(svc.get(other, d.deviceId)).rejects.toThrow(/not found/);
      await expect(
        svc.revoke(other, d.deviceId, 'keyCompromise', { actor: { type: 'system', name: 'test' } }),
      ).rejects.toThrow(/not found/);
      expect((await svc.list(other, { offset: 0, limit: 10 })).total).toBe(0);
      expect((await svc.summary(other)).total.devices).toBe(0);
      expect((await svc.get(server.runtime.instance.id, d.deviceId)).state).toBe('enrolled');
    });
  });
}
