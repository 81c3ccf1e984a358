import { X509Certificate } from 'node:crypto';
import { enrolResponseSchema, type EnrolResponse } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  createPolicyAndBatch,
  devicePost,
  enrolBody,
  register,
  testDevice,
  tlsAs,
  type TestDevice,
} from '../src/test-helpers/test-devices.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const ENROL = '/device/v1/enrol';
const DEVICES = 200;
const REPEATS = 10;

/** A serial as one comparable string: lower-case hex without leading zeros. */
const normal = (hex: string) => hex.toLowerCase().replace(/^0+/, '');

/**
 * Many devices enrolling at once, each over its own TLS connection: every certificate gets a
 * serial no other certificate of its issuer has, each is stored exactly once, and each device
 * ends enrolled with the certificate it was given. A serial source that repeats under load (a
 * counter read before another request commits, say) fails here; so does the database, if
 * the (instance, issuer, serial) constraint were dropped.
 */
for (const dialect of TEST_DIALECTS) {
  describe(`concurrent enrolments on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let batchId: string;
    const db = () => server.runtime.db.kysely;

    beforeAll(async () => {
      // The test is about concurrency, not the address limit: 127.0.0.1 is every device here.
      server = await startTestServer(dialect, {
        env: { TRUSTLINK_DEVICE_ADDRESS_RATE_PER_MINUTE: '0' },
      });
      ({ admin } = await createTestUsers(server));
      ({ batchId } = await createPolicyAndBatch(server, admin, 'Concurrent'));
    }, 60_000);
    afterAll(async () => server?.close());

    it(`${DEVICES} devices enrol at once: unique serials per issuer, each stored once`, async () => {
      const devices = await Promise.all(Array.from({ length: DEVICES }, () => testDevice()));
      await register(server, admin, batchId, ...devices.map((d) => d.deviceId));

      const responses = await Promise.all(
        devices.map((d) => devicePost(server, ENROL, enrolBody(d), tlsAs(d))),
      );
      const failed = responses.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`);
      expect(failed).toEqual([]);
      const issued = responses.map((r, i) => {
        const body = enrolResponseSchema.parse(r.json());
        const x = new X509Certificate(Buffer.from(body.certificate, 'base64url'));
        expect(body.deviceId).toBe(devices[i]!.deviceId);
        return { deviceId: body.deviceId, issuer: x.issuer, serial: normal(x.serialNumber) };
      });
      // What devices were given: one serial per certificate within each issuer.
      const given = new Set(issued.map((c) => `${c.issuer}/${c.serial}`));
      expect(given.size).toBe(DEVICES);

      // What was stored: exactly these certificates, one row each, one per device.
      const rows = await db()
        .selectFrom('device_certificates')
        .select(['issuer_id', 'serial', 'device_id'])
        .where('instance_id', '=', server.runtime.instance.id)
        .execute();
      expect(rows.length).toBe(DEVICES);
      expect(new Set(rows.map((r) => `${r.issuer_id}/${normal(r.serial)}`)).size).toBe(DEVICES);
      expect(new Set(rows.map((r) => r.device_id)).size).toBe(DEVICES);
      const bySerial = new Map(rows.map((r) => [normal(r.serial), r.device_id]));
      for (const c of issued) expect(bySerial.get(c.serial)).toBe(c.deviceId);

      // Every device enrolled, pointing at the certificate it was given; one audit entry each.
      const states = await db()
        .selectFrom('devices')
        .select(['id', 'state', 'current_serial'])
        .where('instance_id', '=', server.runtime.instance.id)
        .where('batch_id', '=', batchId)
        .execute();
      expect(states.length).toBe(DEVICES);
      const serialOf = new Map(issued.map((c) => [c.deviceId, c.serial]));
      for (const s of states) {
        expect(s.state).toBe('enrolled');
        expect(normal(s.current_serial ?? '')).toBe(serialOf.get(s.id));
      }
      const audited = await db()
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('instance_id', '=', server.runtime.instance.id)
        .where('action', '=', 'device.enrol')
        .where('result', '=', 'ok')
        .executeTakeFirstOrThrow();
      expect(Number(audited.n)).toBe(DEVICES);
    }, 240_000);

    it('one device enrolling many times at once gets one certificate, stored once', async () => {
      const d: TestDevice = await testDevice();
      await register(server, admin, batchId, d.deviceId);
      const responses = await Promise.all(
        Array.from({ length: REPEATS }, () => devicePost(server, ENROL, enrolBody(d), tlsAs(d))),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(REPEATS).fill(200));
      const certs = new Set(responses.map((r) => r.json<EnrolResponse>().certificate));
      expect(certs.size).toBe(1);
      const rows = await db()
        .selectFrom('device_certificates')
        .select('serial')
        .where('instance_id', '=', server.runtime.instance.id)
        .where('device_id', '=', d.deviceId)
        .execute();
      expect(rows.length).toBe(1);
    }, 120_000);

    it('the database refuses a second certificate with an issuer and serial already used', async () => {
      const row = await db()
        .selectFrom('device_certificates')
        .selectAll()
        .where('instance_id', '=', server.runtime.instance.id)
        .executeTakeFirstOrThrow();
      await expect(
        db()
          .insertInto('device_certificates')
          .values({ ...row, id: `${row.id}-copy`, device_id: 'f'.repeat(64) })
          .execute(),
      ).rejects.toThrow(/unique|duplicate/i);
      // Control: the same row with a serial of its own is accepted, so the refusal above was
      // the (instance, issuer, serial) constraint and nothing else about the row.
      const other = { ...row, id: `${row.id}-other`, serial: `${row.serial}00` };
      await db().insertInto('device_certificates').values(other).execute();
      await db().deleteFrom('device_certificates').where('id', '=', other.id).execute();
    });
  });
}
