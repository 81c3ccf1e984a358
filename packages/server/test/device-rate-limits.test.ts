import type { EnrolResponse } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPem } from '../src/pki/certificate-builder.js';
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
import {
  startTestServer,
  type TestResponse,
  type TestServer,
} from '../src/test-helpers/test-server.js';

const ENROL = '/device/v1/enrol';
const STATUS = '/device/v1/status';
const ADDRESS_BURST = 8;
const DEVICE_BURST = 3;

/** Enrols a device over TLS with its bootstrap certificate; TLS options for its device certificate. */
async function enrolled(server: TestServer, d: TestDevice) {
  const r = await devicePost(server, ENROL, enrolBody(d), tlsAs(d));
  if (r.status !== 200) throw new Error(`enrol: ${r.status} ${r.text}`);
  return tlsAs(d, toPem(Buffer.from(r.json<EnrolResponse>().certificate, 'base64url')));
}

/** A 429 as devices are told (PROTOCOL.md): problem+json with a whole-second Retry-After. */
function expectTooMany(r: TestResponse, what: 'address' | 'device') {
  expect(r.status, r.text).toBe(429);
  expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
  const retry = Number(r.headers['retry-after']);
  expect(Number.isInteger(retry) && retry >= 1 && retry <= 60, `retry-after ${retry}`).toBe(true);
  expect(r.json()).toMatchObject({
    status: 429,
    type: expect.stringMatching(/too-many-requests$/),
  });
  expect(r.json<{ detail: string }>().detail).toContain(`from this ${what}`);
}

for (const dialect of TEST_DIALECTS) {
  describe(`device port rate limits on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let a: ReturnType<typeof tlsAs>;
    let b: ReturnType<typeof tlsAs>;

    beforeAll(async () => {
      // One token a minute: nothing refills during the test, so the bursts are the limits.
      server = await startTestServer(dialect, {
        env: {
          TRUSTLINK_DEVICE_ADDRESS_RATE_PER_MINUTE: '1',
          TRUSTLINK_DEVICE_ADDRESS_BURST: String(ADDRESS_BURST),
          TRUSTLINK_DEVICE_RATE_PER_MINUTE: '1',
          TRUSTLINK_DEVICE_BURST: String(DEVICE_BURST),
        },
      });
      ({ admin } = await createTestUsers(server));
      const { batchId } = await createPolicyAndBatch(server, admin, 'Limited');
      const [da, db] = await Promise.all([testDevice(), testDevice()]);
      await register(server, admin, batchId, da!.deviceId, db!.deviceId);
      a = await enrolled(server, da!);
      b = await enrolled(server, db!);
    });
    afterAll(async () => server?.close());

    it('a device over its check-in limit gets 429; another device is not affected', async () => {
      for (let i = 0; i < DEVICE_BURST; i++) {
        const r = await server.deviceRequest('GET', STATUS, a);
        expect(r.status, r.text).toBe(200);
      }
      expectTooMany(await server.deviceRequest('GET', STATUS, a), 'device');
      // The same device's other authenticated routes share its bucket.
      expectTooMany(await server.deviceRequest('GET', '/device/v1/certificate', a), 'device');
      const other = await server.deviceRequest('GET', STATUS, b);
      expect(other.status, other.text).toBe(200);
    });

    it('an address over its limit gets 429 on every unauthenticated route, nothing more', async () => {
      // Two enrolments spent two tokens; challenges spend the rest.
      let served = 0;
      let refused: TestResponse | undefined;
      for (let i = 0; i < ADDRESS_BURST + 5 && !refused; i++) {
        const r = await server.deviceRequest('POST', '/device/v1/challenge', { body: {} });
        if (r.status === 429) refused = r;
        else {
          expect(r.status, r.text).toBe(200);
          served++;
        }
      }
      expect(refused, 'no 429 after the burst').toBeDefined();
      expectTooMany(refused!, 'address');
      // A token may have refilled on a slow machine, never more than one a minute.
      expect(served).toBeGreaterThanOrEqual(ADDRESS_BURST - 2);
      expect(served).toBeLessThanOrEqual(ADDRESS_BURST - 2 + 1);

      const nonce = 'n'.repeat(32);
      expectTooMany(
        await server.deviceRequest('POST', '/device/v1/time', { body: { nonce } }),
        'address',
      );
      expectTooMany(await server.deviceRequest('GET', '/.well-known/est/cacerts'), 'address');
      const c = await testDevice();
      expectTooMany(await devicePost(server, ENROL, enrolBody(c), tlsAs(c)), 'address');
      // Nothing of the refused enrolment was stored.
      const detail = await server.request('GET', `/api/v1/devices/${c.deviceId}`, {
        headers: admin.headers,
      });
      expect(detail.status).toBe(404);
      // Check-ins are limited per device, not per address: devices behind one NAT go on.
      const checkIn = await server.deviceRequest('GET', STATUS, b);
      expect(checkIn.status, checkIn.text).toBe(200);
    });
  });

  describe(`device port rate limits at their defaults on ${dialect}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(dialect);
    });
    afterAll(async () => server?.close());

    it('callers under the limits are never refused', async () => {
      const { admin } = await createTestUsers(server);
      const { batchId } = await createPolicyAndBatch(server, admin, 'Default limits');
      const devices = await Promise.all(Array.from({ length: 20 }, () => testDevice()));
      await register(server, admin, batchId, ...devices.map((d) => d.deviceId));
      const statuses: number[] = [];
      await Promise.all(
        devices.map(async (d) => {
          const tls = await enrolled(server, d);
          statuses.push(200);
          const n = await server.deviceRequest('POST', '/device/v1/challenge', { body: {} });
          statuses.push(n.status);
          // Far more check-ins than a device makes in a minute (3), fewer than its burst.
          for (let i = 0; i < 10; i++)
            statuses.push((await server.deviceRequest('GET', STATUS, tls)).status);
        }),
      );
      expect(statuses.length).toBe(20 * 12);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
    });
  });
}
