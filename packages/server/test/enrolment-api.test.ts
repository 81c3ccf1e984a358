import { ECDH, X509Certificate } from 'node:crypto';
import { enrolResponseSchema, statusResponseSchema, type EnrolResponse } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPem } from '../src/pki/certificate-builder.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { createTestClock, type TestClock } from '../src/test-helpers/test-clock.js';
import { deviceKey, makeCsr } from '../src/test-helpers/test-csr.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  challenge,
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

const ENROL = '/device/v1/enrol';

/** The same P-256 key as `d`, with its point compressed: a second encoding of one key. */
function compressedSpki(d: TestDevice): Buffer {
  const point = d.spkiDer.subarray(d.spkiDer.length - 65);
  const compressed = ECDH.convertKey(
    point,
    'prime256v1',
    undefined,
    undefined,
    'compressed',
  ) as Buffer;
  return Buffer.concat([
    Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
    compressed,
  ]);
}

for (const dialect of TEST_DIALECTS) {
  describe(`device API enrolment on ${dialect}`, () => {
    let server: TestServer;
    let clock: TestClock;
    let admin: TestPrincipal;
    let batchId: string;

    beforeAll(async () => {
      clock = createTestClock();
      server = await startTestServer(dialect, { now: clock.now });
      ({ admin } = await createTestUsers(server));
      ({ batchId } = await createPolicyAndBatch(server, admin, 'Line A', {
        keyTypes: ['P-256', 'P-384', 'RSA-2048'],
      }));
    });
    afterAll(async () => server?.close());

    const detail = async (id: string) =>
      server.request('GET', `/api/v1/devices/${id}`, { headers: admin.headers });
    /** The newest audit entries about a device (or with no device), newest first. */
    const auditOf = async (deviceId: string | null) =>
      (await server.runtime.audit.recent(server.runtime.instance.id, 300)).filter(
        (e) => e.actor.type === 'device' && e.actor.id === deviceId,
      );
    /** A refusal leaves no trace but the audit entry: no device row change, no certificate. */
    const expectNothingStored = async (d: TestDevice, registered: boolean) => {
      const r = await detail(d.deviceId);
      if (!registered) return expect(r.status).toBe(404);
      expect(r.json()).toMatchObject({
        state: 'registered',
        certificates: [],
        currentSerial: null,
      });
    };
    const verifyWithOpenssl = (res: EnrolResponse) => {
      const s = scratch();
      try {
        const der = (b: string) => Buffer.from(b, 'base64url');
        const root = s.file('root.pem', toPem(der(res.trustAnchors[0]!)));
        const chain = s.file('chain.pem', res.chain.map((c) => toPem(der(c))).join(''));
        const leaf = s.file('leaf.pem', toPem(der(res.certificate)));
        return openssl(['verify', '-CAfile', root, '-untrusted', chain, leaf]);
      } finally {
        s.remove();
      }
    };

    it('ok/a pre-registered device enrols over TLS with its bootstrap certificate', async () => {
      const d = await testDevice();
      await register(server, admin, batchId, d.deviceId);
      const res = await devicePost(server, ENROL, enrolBody(d), tlsAs(d));
      expect(res.status, res.text).toBe(200);
      const body = enrolResponseSchema.parse(res.json());
      expect(body).toMatchObject({
        instanceId: server.runtime.instance.id,
        deviceId: d.deviceId,
        batchId,
      });
      expect(body.hub).toBeUndefined();
      const cert = new X509Certificate(Buffer.from(body.certificate, 'base64url'));
      expect(cert.subject).toBe(`CN=${d.deviceId}`);
      expect(verifyWithOpenssl(body)).toMatchObject({ status: 0 });
      expect(Date.parse(body.renewAt)).toBeLessThan(Date.parse(cert.validTo));

      const dev = (await detail(d.deviceId)).json<Record<string, unknown>>();
      expect(dev).toMatchObject({
        state: 'enrolled',
        enrolMethod: 'pre-registered',
        keyType: 'P-256',
      });
      const [entry] = await auditOf(d.deviceId);
      expect(entry).toMatchObject({ action: 'device.enrol', result: 'ok' });
      expect(entry!.details).toMatchObject({ via: 'tls-bootstrap', method: 'pre-registered' });

      // Enrolling again with the same key gives the same certificate, never a second device.
      const again = await devicePost(server, ENROL, enrolBody(d), tlsAs(d));
      expect(again.json<EnrolResponse>().certificate).toBe(body.certificate);
      const withCert = await devicePost(server, ENROL, enrolBody(d), tlsAs(d, toPem(cert.raw)));
      expect(withCert.json<EnrolResponse>().certificate).toBe(body.certificate);
      expect(
        (await detail(d.deviceId)).json<{ certificates: unknown[] }>().certificates,
      ).toHaveLength(1);

      // Check-in with the device certificate: state and certificate, then 304 until a change.
      const status = await server.deviceRequest(
        'GET',
        '/device/v1/status',
        tlsAs(d, toPem(cert.raw)),
      );
      expect(status.status, status.text).toBe(200);
      expect(statusResponseSchema.parse(status.json())).toMatchObject({
        state: 'enrolled',
        certificate: {
          serial: cert.serialNumber.toLowerCase().replace(/^(00)+/, ''),
          renewAt: body.renewAt,
        },
      });
      const etag = status.headers.etag as string;
      const same = await server.deviceRequest('GET', '/device/v1/status', {
        ...tlsAs(d, toPem(cert.raw)),
        headers: { 'if-none-match': etag },
      });
      expect(same.status).toBe(304);
      // The bootstrap certificate proves the key but is no device credential for check-ins.
      const boot = await server.deviceRequest('GET', '/device/v1/status', tlsAs(d));
      expect(boot.status).toBe(401);
      expect(boot.json()).toMatchObject({ type: 'https://trustlink.dev/problems/unauthorized' });
      expect(boot.text).not.toMatch(/bootstrap|certificate/);
    });

    for (const type of ['P-384', 'RSA-2048'] as const) {
      it(`ok/a ${type} device enrols with a Trustlink-Proof instead of TLS`, async () => {
        const d = await testDevice(type);
        await register(server, admin, batchId, d.deviceId);
        const body = enrolBody(d);
        const res = await devicePost(server, ENROL, body, {
          headers: await proofHeaders(server, d, 'enrol', ENROL, body),
        });
        expect(res.status, res.text).toBe(200);
        expect(res.json<EnrolResponse>().deviceId).toBe(d.deviceId);
        expect(verifyWithOpenssl(res.json())).toMatchObject({ status: 0 });
        const [entry] = await auditOf(d.deviceId);
        expect(entry?.details).toMatchObject({ via: 'proof', method: 'pre-registered' });
      });
    }

    it('ok/a bearer session serves check-in, certificate and renewal; the ETag follows', async () => {
      const d = await testDevice();
      await register(server, admin, batchId, d.deviceId);
      let body = enrolBody(d);
      const enrolled = await devicePost(server, ENROL, body, {
        headers: await proofHeaders(server, d, 'enrol', ENROL, body),
      });
      expect(enrolled.status).toBe(200);
      body = '{}';
      const s = await devicePost(server, '/device/v1/session', body, {
        headers: await proofHeaders(server, d, 'session', '/device/v1/session', body),
      });
      expect(s.status, s.text).toBe(200);
      const { token, expiresAt } = s.json<{ token: string; expiresAt: string }>();
      expect(Date.parse(expiresAt) - clock.now().getTime()).toBeLessThanOrEqual(15 * 60_000);
      const bearer = { authorization: `Bearer ${token}` };
      const st = await server.deviceRequest('GET', '/device/v1/status', { headers: bearer });
      expect(st.status).toBe(200);
      const etag = st.headers.etag as string;
      const cert = await server.deviceRequest('GET', '/device/v1/certificate', { headers: bearer });
      expect(cert.json()).toMatchObject({
        certificate: enrolled.json<EnrolResponse>().certificate,
      });

      const renewed = await devicePost(
        server,
        '/device/v1/renew',
        JSON.stringify({ csr: makeCsr(d).toString('base64url') }),
        {
          headers: bearer,
        },
      );
      expect(renewed.status, renewed.text).toBe(200);
      expect(renewed.json<{ certificate: string }>().certificate).not.toBe(
        enrolled.json<EnrolResponse>().certificate,
      );
      const after = await server.deviceRequest('GET', '/device/v1/status', {
        headers: { ...bearer, 'if-none-match': etag },
      });
      expect(after.status).toBe(200);
      expect(after.json()).toMatchObject({ state: 'renewed' });
      expect((await detail(d.deviceId)).json()).toMatchObject({ state: 'renewed' });
    });

    // Each refusal: the device gets a bare status, the audit log the reason, nothing is stored.
    const refusals: {
      name: string;
      registered: boolean;
      status: number;
      reason: RegExp;
      send(d: TestDevice): Promise<{ status: number; text: string }>;
    }[] = [
      {
        name: 'fail/unregistered device ID',
        registered: false,
        status: 401,
        reason: /not registered in any batch/,
        send: (d) => devicePost(server, ENROL, enrolBody(d), tlsAs(d)),
      },
      {
        name: 'fail/a token alone',
        registered: false,
        status: 401,
        reason: /a token alone never enrols/,
        send: (d) => devicePost(server, ENROL, enrolBody(d, { token: 'a'.repeat(32) }), tlsAs(d)),
      },
      {
        name: 'fail/CSR key that is not the proven key',
        registered: true,
        status: 401,
        reason: /not the proven identity key/,
        send: (d) => devicePost(server, ENROL, enrolBody(deviceKey()), tlsAs(d)),
      },
      {
        name: 'fail/CSR with a non-canonical key encoding',
        registered: true,
        status: 400,
        reason: /not canonical/,
        send: (d) =>
          devicePost(server, ENROL, enrolBody(d, {}, { spkiDer: compressedSpki(d) }), tlsAs(d)),
      },
      {
        name: 'fail/proof with a non-canonical key encoding',
        registered: true,
        status: 401,
        reason: /proof bad-key/,
        send: async (d) => {
          const body = enrolBody(d);
          const h = await proofHeaders(server, d, 'enrol', ENROL, body);
          const spki = compressedSpki(d).toString('base64url');
          h['trustlink-proof'] = h['trustlink-proof']!.replace(/^spki=[^;]+/, `spki=${spki}`);
          return devicePost(server, ENROL, body, { headers: h });
        },
      },
      {
        name: 'fail/malformed CSR',
        registered: true,
        status: 400,
        reason: /malformed CSR/,
        send: (d) =>
          devicePost(
            server,
            ENROL,
            JSON.stringify({ csr: Buffer.from('not a CSR at all').toString('base64url') }),
            tlsAs(d),
          ),
      },
      {
        name: 'fail/CSR whose signature does not verify',
        registered: true,
        status: 400,
        reason: /signature does not verify/,
        send: (d) => devicePost(server, ENROL, enrolBody(d, {}, { badSignature: true }), tlsAs(d)),
      },
      {
        name: 'fail/replayed challenge',
        registered: true,
        status: 409,
        reason: /challenge-replayed/,
        send: async (d) => {
          // The nonce is burnt by its first accepted use, even one refused later for another reason.
          const nonce = await challenge(server);
          const other = deviceKey();
          const first = enrolBody(other);
          await devicePost(server, ENROL, first, {
            headers: await proofHeaders(server, other, 'enrol', ENROL, first, { nonce }),
          });
          const body = enrolBody(d);
          return devicePost(server, ENROL, body, {
            headers: await proofHeaders(server, d, 'enrol', ENROL, body, { nonce }),
          });
        },
      },
      {
        name: 'fail/expired challenge',
        registered: true,
        status: 409,
        reason: /challenge-expired/,
        send: async (d) => {
          const nonce = await challenge(server);
          clock.advance(121_000);
          const body = enrolBody(d);
          return devicePost(server, ENROL, body, {
            headers: await proofHeaders(server, d, 'enrol', ENROL, body, { nonce }),
          });
        },
      },
      {
        name: 'fail/proof over another path',
        registered: true,
        status: 401,
        reason: /bad-signature/,
        send: async (d) => {
          const body = enrolBody(d);
          return devicePost(server, ENROL, body, {
            headers: await proofHeaders(server, d, 'enrol', ENROL, body, {
              signedPath: '/device/v1/session',
            }),
          });
        },
      },
      {
        name: 'fail/proof over another body',
        registered: true,
        status: 401,
        reason: /bad-signature/,
        send: async (d) => {
          const body = enrolBody(d);
          return devicePost(server, ENROL, body, {
            headers: await proofHeaders(server, d, 'enrol', ENROL, body, {
              signedBody: enrolBody(d),
            }),
          });
        },
      },
      {
        name: 'fail/proof for another purpose',
        registered: true,
        status: 401,
        reason: /bad-signature/,
        send: async (d) => {
          const body = enrolBody(d);
          const h = await proofHeaders(server, d, 'session', ENROL, body);
          return devicePost(server, ENROL, body, { headers: h });
        },
      },
      {
        name: 'fail/proof relayed to a host name this server does not answer to',
        registered: true,
        status: 401,
        reason: /not a name of this server/,
        send: async (d) => {
          const body = enrolBody(d);
          const h = await proofHeaders(server, d, 'enrol', ENROL, body, {
            host: 'evil.example.com',
          });
          return devicePost(server, ENROL, body, { headers: { ...h, host: 'evil.example.com' } });
        },
      },
      {
        name: 'fail/no proof at all',
        registered: true,
        status: 401,
        reason: /no client certificate and no Trustlink-Proof/,
        send: (d) => devicePost(server, ENROL, enrolBody(d)),
      },
    ];
    for (const c of refusals) {
      it(c.name, async () => {
        const d = await testDevice();
        if (c.registered) await register(server, admin, batchId, d.deviceId);
        const res = await c.send(d);
        expect(res.status, res.text).toBe(c.status);
        if (c.status === 401) expect(JSON.parse(res.text).detail).toBe('Authentication required');
        const entries = [...(await auditOf(d.deviceId)), ...(await auditOf(null))].filter(
          (e) => e.result === 'denied' && e.action === 'device.enrol',
        );
        expect(
          entries.some((e) => c.reason.test(String(e.details.reason))),
          JSON.stringify(entries.map((e) => e.details.reason)),
        ).toBe(true);
        await expectNothingStored(d, c.registered);
      });
    }

    it('fail/a revoked device is refused with device-revoked', async () => {
      const d = await testDevice();
      await register(server, admin, batchId, d.deviceId);
      expect((await devicePost(server, ENROL, enrolBody(d), tlsAs(d))).status).toBe(200);
      const rv = await server.request('POST', `/api/v1/devices/${d.deviceId}/revoke`, {
        headers: admin.headers,
        body: { reason: 'keyCompromise' },
      });
      expect(rv.status, rv.text).toBe(200);
      // Revocation closed the device's kept-alive connection: a client reconnects once.
      const res = await devicePost(server, ENROL, enrolBody(d), tlsAs(d)).catch(() =>
        devicePost(server, ENROL, enrolBody(d), tlsAs(d)),
      );
      expect(res.status).toBe(403);
      expect(res.json()).toMatchObject({ type: 'https://trustlink.dev/problems/device-revoked' });
      const [entry] = await auditOf(d.deviceId);
      expect(entry).toMatchObject({
        action: 'device.enrol',
        result: 'denied',
        details: { reason: 'device is revoked' },
      });
    });

    it('fail/bodies over 64 KiB are refused', async () => {
      const res = await devicePost(server, ENROL, JSON.stringify({ csr: 'A'.repeat(70 * 1024) }));
      expect(res.status).toBe(413);
      expect(res.json()).toMatchObject({
        type: 'https://trustlink.dev/problems/payload-too-large',
      });
    });

    it('ok/signed time: a statement for the nonce, chained to the instance root', async () => {
      const { verifyTimeStatement } = await import('@trustlink/protocol');
      const nonce = Buffer.alloc(16, 7).toString('base64url');
      const res = await server.deviceRequest('POST', '/device/v1/time', { body: { nonce } });
      expect(res.status, res.text).toBe(200);
      const { statement, chain } = res.json<{ statement: string; chain: string[] }>();
      const leaf = new X509Certificate(Buffer.from(chain[0]!, 'base64url'));
      expect(leaf.verify(new X509Certificate(server.rootPem).publicKey)).toBe(true);
      const spki = leaf.publicKey.export({ type: 'spki', format: 'der' });
      const v = verifyTimeStatement(statement, { publicKeySpki: spki, nonce });
      expect(v.ok).toBe(true);
      if (v.ok) expect(Math.abs(v.time.getTime() - clock.now().getTime())).toBeLessThan(1000);
    });
  });
}
