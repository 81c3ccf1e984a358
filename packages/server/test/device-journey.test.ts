import { createHash } from 'node:crypto';
import { verifyManifest, type EnrolResponse } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPem } from '../src/pki/certificate-builder.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  devicePost,
  enrolBody,
  register,
  testDevice,
  tlsAs,
} from '../src/test-helpers/test-devices.js';
import { firmwareApi } from '../src/test-helpers/test-firmware.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

/**
 * One device's life across the domains, with nothing injected: it enrols over TLS with its
 * bootstrap certificate, hears of an update at check-in, fetches and verifies the manifest,
 * downloads the image with its device certificate, reports, and is cut off when revoked.
 */
for (const dialect of TEST_DIALECTS) {
  describe(`a device from enrolment to update to revocation on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    beforeAll(async () => {
      server = await startTestServer(dialect);
      ({ admin } = await createTestUsers(server));
    });
    afterAll(async () => server?.close());

    it('ok/enrol, check in, update, report; then revoked everywhere', async () => {
      const fw = firmwareApi(server, admin);
      const batchId = await fw.batch('Journey');
      const d = await testDevice('P-256');
      await register(server, admin, batchId, d.deviceId);

      const enrolled = await devicePost(server, '/device/v1/enrol', enrolBody(d), tlsAs(d));
      expect(enrolled.status).toBe(200);
      const e = enrolled.json<EnrolResponse>();
      expect(e.deviceId).toBe(d.deviceId);
      const certPem = toPem(Buffer.from(e.certificate, 'base64url'));
      const asDevice = tlsAs(d, certPem);

      const image = Buffer.alloc(70_001, 7);
      const firmware = await fw.upload(
        'name=journey&version=1.2.0&securityVersion=3&format=raw&input=binary',
        image,
      );
      const key = await fw.signingKey('journey key', 'P-256');
      expect((await fw.assign(batchId, firmware.id, key.id)).status).toBe(200);

      const status = await server.deviceRequest('GET', '/device/v1/status', asDevice);
      expect(status.status).toBe(200);
      const update = status.json<{ update?: { id: string; manifestUrl: string } }>().update;
      expect(update?.manifestUrl).toBe(`/device/v1/updates/${update?.id}/manifest`);

      const manifest = await server.deviceRequest('GET', update!.manifestUrl, asDevice);
      expect(manifest.status).toBe(200);
      const verified = verifyManifest(manifest.text.trim().replace(/^"|"$/g, ''), {
        publicKeySpki: key.spki,
        expected: {
          instanceId: e.instanceId,
          deviceId: d.deviceId,
          batchId,
          hardware: {},
          installedSecurityVersion: 2,
          now: new Date(),
        },
      });
      expect(verified).toMatchObject({ ok: true });

      const got = await server.deviceRequest(
        'GET',
        `/device/v1/updates/${update!.id}/image`,
        asDevice,
      );
      expect(got.status).toBe(200);
      expect(createHash('sha256').update(got.body).digest('hex')).toBe(
        createHash('sha256').update(image).digest('hex'),
      );
      const report = await server.deviceRequest('POST', `/device/v1/updates/${update!.id}/report`, {
        ...asDevice,
        body: { status: 'installed', at: new Date().toISOString() },
      });
      expect(report.status).toBeLessThan(300);
      expect((await fw.rollout(batchId)).counts).toMatchObject({ installed: 1 });

      const revoke = await server.request('POST', `/api/v1/devices/${d.deviceId}/revoke`, {
        headers: admin.headers,
        body: { reason: 'keyCompromise' },
      });
      expect(revoke.status).toBeLessThan(300);
      // Revocation closes the device's open connections; like any client, reconnect once.
      const again = async (path: string) => {
        try {
          return await server.deviceRequest('GET', path, asDevice);
        } catch {
          return server.deviceRequest('GET', path, asDevice);
        }
      };
      const after = await again(`/device/v1/updates/${update!.id}/image`);
      expect(after.status).toBe(403);
      expect(after.json<{ type: string }>().type).toMatch(/device-revoked/);
      expect((await again('/device/v1/status')).status).toBe(403);
    });
  });
}
