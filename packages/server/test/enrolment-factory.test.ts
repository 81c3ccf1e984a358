import { X509Certificate } from 'node:crypto';
import type { EnrolResponse } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { createTestClock, type TestClock } from '../src/test-helpers/test-clock.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  createPolicyAndBatch,
  devicePost,
  enrolBody,
  proofHeaders,
  register,
  testDevice,
  type TestDevice,
} from '../src/test-helpers/test-devices.js';
import { factoryPki, type FactoryCa } from '../src/test-helpers/test-factory-ca.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const ENROL = '/device/v1/enrol';
const DAY = 24 * 3600_000;

for (const dialect of TEST_DIALECTS) {
  describe(`factory certificate enrolment on ${dialect}`, () => {
    let server: TestServer;
    let clock: TestClock;
    let admin: TestPrincipal;
    let pki: ReturnType<typeof factoryPki>;
    let mustCa: FactoryCa;
    let tokenRoot: FactoryCa;
    let tokenCa: FactoryCa;
    let unknownCa: FactoryCa;
    let batchA: string;
    let batchB: string;
    let batchC: string;
    const tokens: Record<string, string> = {};

    const createToken = async (name: string, batchId: string, from: number, to: number) => {
      const t = clock.now().getTime();
      const r = await server.request('POST', '/api/v1/enrolment-tokens', {
        headers: admin.headers,
        body: {
          name,
          batchId,
          notBefore: new Date(t + from).toISOString(),
          notAfter: new Date(t + to).toISOString(),
        },
      });
      if (r.status !== 201) throw new Error(r.text);
      return r.json<{ value: string }>().value;
    };

    beforeAll(async () => {
      clock = createTestClock();
      server = await startTestServer(dialect, { now: clock.now });
      ({ admin } = await createTestUsers(server));
      ({ batchId: batchA } = await createPolicyAndBatch(server, admin, 'Factory A'));
      ({ batchId: batchB } = await createPolicyAndBatch(server, admin, 'Factory B'));
      ({ batchId: batchC } = await createPolicyAndBatch(server, admin, 'Factory C'));
      pki = factoryPki();
      mustCa = pki.root('Vendor CA must');
      tokenRoot = pki.root('Vendor root token');
      tokenCa = pki.intermediate(tokenRoot, 'Vendor intermediate token');
      unknownCa = pki.root('Unknown vendor');
      for (const [pem, batchId, rule] of [
        [mustCa.pem, batchA, 'must-pre-register'],
        [tokenRoot.pem, batchB, 'requires-token'],
      ] as const) {
        const r = await server.request('POST', '/api/v1/auth-certs', {
          headers: admin.headers,
          body: { pem, batchId, rule },
        });
        expect(r.status, r.text).toBe(201);
      }
      tokens.good = await createToken('good', batchB, -60_000, 30 * DAY);
      tokens.other = await createToken('other batch', batchC, -60_000, 30 * DAY);
      tokens.future = await createToken('future', batchB, DAY, 30 * DAY);
      tokens.expired = await createToken('expired', batchB, -60_000, 60_000);
      clock.advance(120_000);
    });
    afterAll(async () => {
      pki?.remove();
      await server?.close();
    });

    /** Enrols over TLS with a factory certificate (and the intermediates it sends). */
    const enrolTls = (d: TestDevice, certPem: string, extra: Record<string, unknown> = {}) =>
      devicePost(server, ENROL, enrolBody(d, extra), { cert: certPem, key: d.keyPem });
    const detail = (id: string) =>
      server.request('GET', `/api/v1/devices/${id}`, { headers: admin.headers });
    const refusalReasons = async (deviceId: string) =>
      (await server.runtime.audit.recent(server.runtime.instance.id, 100))
        .filter((e) => e.actor.id === deviceId && e.result === 'denied')
        .map((e) => String(e.details.reason));

    it('ok/must-pre-register: a registered device with a certificate of the auth cert', async () => {
      const d = await testDevice();
      await register(server, admin, batchA, d.deviceId);
      const res = await enrolTls(d, pki.deviceCertificate(mustCa, d));
      expect(res.status, res.text).toBe(200);
      expect(res.json<EnrolResponse>()).toMatchObject({ deviceId: d.deviceId, batchId: batchA });
      expect((await detail(d.deviceId)).json()).toMatchObject({
        state: 'enrolled',
        enrolMethod: 'factory-certificate',
      });
    });

    it('ok/requires-token: an unregistered device with a token of the batch, through an intermediate', async () => {
      const d = await testDevice();
      const chainPem = pki.deviceCertificate(tokenCa, d) + tokenCa.pem;
      const res = await enrolTls(d, chainPem, { token: tokens.good });
      expect(res.status, res.text).toBe(200);
      const body = res.json<EnrolResponse>();
      expect(body).toMatchObject({ deviceId: d.deviceId, batchId: batchB });
      expect(new X509Certificate(Buffer.from(body.certificate, 'base64url')).subject).toBe(
        `CN=${d.deviceId}`,
      );
      expect((await detail(d.deviceId)).json()).toMatchObject({
        state: 'enrolled',
        batchId: batchB,
        enrolMethod: 'factory-certificate+token',
      });
    });

    it('ok/requires-token with a Trustlink-Proof naming the factory certificate (no TLS)', async () => {
      const d = await testDevice();
      const leaf = new X509Certificate(pki.deviceCertificate(tokenCa, d)).raw;
      const body = enrolBody(d, {
        token: tokens.good,
        factoryChain: [new X509Certificate(tokenCa.pem).raw.toString('base64url')],
      });
      const res = await devicePost(server, ENROL, body, {
        headers: await proofHeaders(server, d, 'enrol', ENROL, body, { cert: leaf }),
      });
      expect(res.status, res.text).toBe(200);
      expect(res.json<EnrolResponse>().batchId).toBe(batchB);
    });

    const refusals: {
      name: string;
      reason: RegExp;
      registerIn?: () => string;
      send(d: TestDevice): Promise<{ status: number; text: string }>;
    }[] = [
      {
        name: 'fail/must-pre-register: ID in no batch',
        reason: /device ID is in no batch: auth cert .* requires devices to be pre-registered/,
        send: (d) => enrolTls(d, pki.deviceCertificate(mustCa, d)),
      },
      {
        name: 'fail/ID registered in another batch than the auth cert’s',
        reason: /registered in batch "Factory C", not in auth cert .*'s batch "Factory A"/,
        registerIn: () => batchC,
        send: (d) => enrolTls(d, pki.deviceCertificate(mustCa, d)),
      },
      {
        name: 'fail/requires-token: no token',
        reason: /requires a token, and none was sent/,
        send: (d) => enrolTls(d, pki.deviceCertificate(tokenCa, d) + tokenCa.pem),
      },
      {
        name: 'fail/wrong token',
        reason: /token refused: unknown token/,
        send: (d) =>
          enrolTls(d, pki.deviceCertificate(tokenCa, d) + tokenCa.pem, { token: 'f'.repeat(32) }),
      },
      {
        name: 'fail/expired token',
        reason: /token refused: token "expired" expired at/,
        send: (d) =>
          enrolTls(d, pki.deviceCertificate(tokenCa, d) + tokenCa.pem, { token: tokens.expired }),
      },
      {
        name: 'fail/token not valid yet',
        reason: /token refused: token "future" is not valid before/,
        send: (d) =>
          enrolTls(d, pki.deviceCertificate(tokenCa, d) + tokenCa.pem, { token: tokens.future }),
      },
      {
        name: 'fail/token of another batch',
        reason: /token refused: token "other batch" belongs to another batch/,
        send: (d) =>
          enrolTls(d, pki.deviceCertificate(tokenCa, d) + tokenCa.pem, { token: tokens.other }),
      },
      {
        name: 'fail/factory certificate from an unknown CA, even with a good token',
        reason:
          /factory certificate refused: the certificate chain ends at .*Unknown vendor.*no auth cert/,
        send: (d) => enrolTls(d, pki.deviceCertificate(unknownCa, d), { token: tokens.good }),
      },
      {
        name: 'fail/the intermediate is missing',
        reason: /ends at .*Vendor intermediate token.*no auth cert/,
        send: (d) => enrolTls(d, pki.deviceCertificate(tokenCa, d), { token: tokens.good }),
      },
      {
        name: 'fail/an expired factory certificate',
        reason: /the factory certificate expired at/,
        send: async (d) => {
          const pem = pki.deviceCertificate(mustCa, d, 1);
          clock.advance(2 * DAY);
          try {
            return await enrolTls(d, pem);
          } finally {
            clock.advance(-2 * DAY);
          }
        },
        registerIn: () => batchA,
      },
    ];
    for (const c of refusals) {
      it(c.name, async () => {
        const d = await testDevice();
        const regBatch = c.registerIn?.();
        if (regBatch) await register(server, admin, regBatch, d.deviceId);
        const res = await c.send(d);
        expect(res.status, res.text).toBe(401);
        const reasons = await refusalReasons(d.deviceId);
        expect(
          reasons.some((r) => c.reason.test(r)),
          JSON.stringify(reasons),
        ).toBe(true);
        // Nothing stored: no device (or the registered one untouched), no certificate.
        const dev = await detail(d.deviceId);
        if (!regBatch) expect(dev.status).toBe(404);
        else expect(dev.json()).toMatchObject({ state: 'registered', certificates: [] });
      });
    }
  });
}
