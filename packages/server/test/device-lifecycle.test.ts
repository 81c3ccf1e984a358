import { X509Certificate } from 'node:crypto';
import type { CertificateResponse, EnrolResponse, StatusResponse } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPem } from '../src/pki/certificate-builder.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { createTestClock, type TestClock } from '../src/test-helpers/test-clock.js';
import { makeCsr } from '../src/test-helpers/test-csr.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  createPolicyAndBatch,
  devicePost,
  enrolBody,
  proofHeaders,
  register,
  spkiOfPem,
  testDevice,
  tlsAs,
  type TestDevice,
} from '../src/test-helpers/test-devices.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const HOUR = 3600_000;
const hours3 = {
  lifetime: { value: 3, unit: 'hours' },
  renewGracePeriod: { value: 1, unit: 'hours' },
};

for (const dialect of TEST_DIALECTS) {
  describe(`device lifecycle on ${dialect}`, () => {
    let server: TestServer;
    let clock: TestClock;
    let admin: TestPrincipal;
    let autoBatch: string;
    let manualBatch: string;

    beforeAll(async () => {
      clock = createTestClock();
      server = await startTestServer(dialect, { now: clock.now });
      ({ admin } = await createTestUsers(server));
      ({ batchId: autoBatch } = await createPolicyAndBatch(server, admin, 'Auto', {
        ...hours3,
        autoRenew: true,
      }));
      ({ batchId: manualBatch } = await createPolicyAndBatch(server, admin, 'Manual', hours3));
    });
    afterAll(async () => server?.close());

    const enrol = async (d: TestDevice, batchId: string) => {
      await register(server, admin, batchId, d.deviceId);
      const r = await devicePost(server, '/device/v1/enrol', enrolBody(d), tlsAs(d));
      expect(r.status, r.text).toBe(200);
      return toPem(Buffer.from(r.json<EnrolResponse>().certificate, 'base64url'));
    };
    const status = (d: TestDevice, certPem: string) =>
      server.deviceRequest('GET', '/device/v1/status', tlsAs(d, certPem));
    const detail = async (id: string) =>
      (await server.request('GET', `/api/v1/devices/${id}`, { headers: admin.headers })).json<{
        state: string;
        expiredAt: string | null;
        certificates: { serial: string; current: boolean }[];
      }>();
    const renewWithProof = async (d: TestDevice) => {
      const body = JSON.stringify({ csr: makeCsr(d).toString('base64url') });
      return devicePost(server, '/device/v1/renew', body, {
        headers: await proofHeaders(server, d, 'renew', '/device/v1/renew', body),
      });
    };

    it('ok/auto-renewal, expiry, renewal within the grace period, and after it only re-enrolment', async () => {
      const auto = await testDevice();
      const manual = await testDevice();
      const late = await testDevice();
      const autoCert = await enrol(auto, autoBatch);
      const manualCert = await enrol(manual, manualBatch);
      const lateCert = await enrol(late, manualBatch);
      const firstSerial = (await status(auto, autoCert)).json<StatusResponse>().certificate.serial;

      // Past the renewal time (two thirds of three hours): the platform renews the auto device.
      clock.advance(2 * HOUR + 10 * 60_000);
      const run1 = await server.runtime.enrolment.jobs.runOnce();
      expect(run1).toMatchObject({ renewed: 1, expired: 0 });
      const st = await status(auto, autoCert);
      expect(st.status).toBe(200);
      const after = st.json<StatusResponse>();
      expect(after.state).toBe('renewed');
      expect(after.certificate.serial).not.toBe(firstSerial);
      // The device fetches it with its old certificate, which still works; same key.
      const fetched = await server.deviceRequest(
        'GET',
        '/device/v1/certificate',
        tlsAs(auto, autoCert),
      );
      expect(fetched.status, fetched.text).toBe(200);
      const renewedPem = toPem(
        Buffer.from(fetched.json<CertificateResponse>().certificate, 'base64url'),
      );
      expect(spkiOfPem(renewedPem)).toEqual(auto.spkiDer);
      expect(new X509Certificate(renewedPem).serialNumber.toLowerCase()).toContain(
        after.certificate.serial,
      );
      expect((await detail(auto.deviceId)).certificates).toHaveLength(2);
      expect((await status(manual, manualCert)).json<StatusResponse>().state).toBe('enrolled');
      // Idempotent: a second run renews nothing.
      expect((await server.runtime.enrolment.jobs.runOnce()).renewed).toBe(0);

      // Past three hours the manual devices' certificates have run out.
      clock.advance(HOUR);
      const run2 = await server.runtime.enrolment.jobs.runOnce();
      expect(run2.expired).toBe(2);
      expect(run2.purgedNonces).toBeGreaterThanOrEqual(0);
      expect(await detail(manual.deviceId)).toMatchObject({
        state: 'expired',
        expiredAt: expect.any(String),
      });
      expect((await status(manual, manualCert)).json<StatusResponse>().state).toBe('expired');
      // An expired certificate no longer renews; a fresh proof of the identity key does, in grace.
      const byCert = await devicePost(
        server,
        '/device/v1/renew',
        JSON.stringify({ csr: makeCsr(manual).toString('base64url') }),
        tlsAs(manual, manualCert),
      );
      expect(byCert.status).toBe(401);
      const inGrace = await renewWithProof(manual);
      expect(inGrace.status, inGrace.text).toBe(200);
      expect(await detail(manual.deviceId)).toMatchObject({ state: 'renewed' });

      // After the grace period: refused, with the reason kept; enrolling again still works.
      clock.advance(HOUR);
      const tooLate = await renewWithProof(late);
      expect(tooLate.status).toBe(401);
      const [entry] = (await server.runtime.audit.recent(server.runtime.instance.id, 20)).filter(
        (e) => e.actor.id === late.deviceId && e.result === 'denied',
      );
      expect(String(entry?.details.reason)).toMatch(
        /grace period for renewal ended at .*: enrol again/,
      );
      expect(lateCert).toBeTruthy();
      const again = await devicePost(server, '/device/v1/enrol', enrolBody(late), tlsAs(late));
      expect(again.status, again.text).toBe(200);
      expect(await detail(late.deviceId)).toMatchObject({ state: 'renewed' });
    });
  });
}
