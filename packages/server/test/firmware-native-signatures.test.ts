import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esp32KeyDigest } from '../src/firmware/esp32-sbv2-key-fns.js';
import { verifyEsp32SecureBootV2 } from '../src/firmware/esp32-sbv2-fns.js';
import type { Firmware, UpdateView } from '../src/firmware/firmware-types.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  createTestDevice,
  firmwareApi,
  tlsCertificateAuthenticator,
  type TestDevice,
} from '../src/test-helpers/test-firmware.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Native signatures made on assignment, checked with the tools a target uses. */
for (const dialect of TEST_DIALECTS) {
  describe(`firmware native signatures on ${dialect}`, () => {
    let server: TestServer;
    let fa: ReturnType<typeof firmwareApi>;
    let p256: { id: string; spki: Buffer };
    let rsa: { id: string; spki: Buffer };
    const batches = { esp: '', linux: '', gw: '' };
    let linuxDevice: TestDevice;
    let gwDevice: TestDevice;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-fw-native-'));
    const images = { esp: randomBytes(70_001), linux: randomBytes(900_000) };
    const firmware: Record<string, Firmware> = {};

    const api = (method: string, url: string, body?: unknown, who?: TestPrincipal) =>
      fa.call(method, url, body, who);
    const dev = (method: string, url: string, d: TestDevice) =>
      server.deviceRequest(method, url, d.tls);
    const assign = (batch: string, firmwareId: string, signingKeyId: string) =>
      fa.assign(batch, firmwareId, signingKeyId);
    const rollout = (batch: string) => fa.rollout(batch);

    beforeAll(async () => {
      server = await startTestServer(dialect, {
        authenticateDevice: tlsCertificateAuthenticator(() => server.runtime),
      });
      const { admin } = await createTestUsers(server);
      fa = firmwareApi(server, admin);
      batches.esp = await fa.batch('Sensors');
      batches.linux = await fa.batch('Linux boxes');
      batches.gw = await fa.batch('Gateways');
      linuxDevice = await createTestDevice(server, batches.linux);
      gwDevice = await createTestDevice(server, batches.gw);
      p256 = await fa.signingKey('Release P-256', 'P-256');
      rsa = await fa.signingKey('Release RSA', 'RSA-3072');
      firmware.esp = await fa.upload('name=Sensor%20app&version=3.0&format=esp32-sbv2', images.esp);
      firmware.linux = await fa.upload(
        'name=Linux%20bundle&version=2026.03&format=linux-bundle-cms',
        images.linux,
      );
      firmware.raw = await fa.upload('name=Raw&version=1', randomBytes(100));
      expect((await assign(batches.gw, firmware.raw!.id, p256.id)).status).toBe(200);
      writeFileSync(path.join(dir, 'root.pem'), server.rootPem);
    });
    afterAll(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('ok/ESP32: the device gets the Secure Boot V2 signed image, which verifies with the key', async () => {
      const res = await assign(batches.esp, firmware.esp!.id, rsa.id);
      expect(res.status, res.text).toBe(200);
      const u = res.json<UpdateView>();
      const fw = (await api('GET', `/api/v1/firmware/${firmware.esp!.id}`)).json<Firmware>();
      const sig = fw.signatures.find((s) => s.kind === 'esp32-sbv2')!;
      expect(sig).toMatchObject({ keyId: rsa.id, keyName: 'Release RSA' });
      const file = await api('GET', `/api/v1/firmware/${fw.id}/signatures/${sig.id}/file`);
      expect(file.status).toBe(200);
      const signed = file.body;
      expect(u).toMatchObject({
        imageSha256: sha256(signed),
        imageSize: signed.length,
        format: 'esp32-sbv2',
      });
      const v = verifyEsp32SecureBootV2(signed, { trustedKeyDigests: [esp32KeyDigest(rsa.spki)] });
      expect(v).toMatchObject({ ok: true, keyTypes: ['RSA-3072'] });
      expect(signed.subarray(0, images.esp.length).equals(images.esp)).toBe(true);
      // Assigning again with the same key reuses the signature instead of making another.
      const again = await assign(batches.esp, firmware.esp!.id, rsa.id);
      expect(again.json<UpdateView>().imageSha256).toBe(u.imageSha256);
      expect((await rollout(batches.esp)).update?.id).toBe(again.json<UpdateView>().id);
    });

    it('ok/Linux bundle: the detached CMS signature verifies with openssl cms -verify', async () => {
      const res = await assign(batches.linux, firmware.linux!.id, p256.id);
      expect(res.status, res.text).toBe(200);
      const u = res.json<UpdateView>();
      const fw = (await api('GET', `/api/v1/firmware/${firmware.linux!.id}`)).json<Firmware>();
      const sig = fw.signatures.find((s) => s.kind === 'cms')!;
      const p7s = (await api('GET', `/api/v1/firmware/${fw.id}/signatures/${sig.id}/file`)).body;
      const fromDevice = await dev('GET', `/device/v1/updates/${u.id}/signature`, linuxDevice);
      expect(fromDevice.status).toBe(200);
      expect(fromDevice.body.equals(p7s)).toBe(true);
      const bundle = (await dev('GET', `/device/v1/updates/${u.id}/image`, linuxDevice)).body;
      expect(bundle.equals(images.linux)).toBe(true);
      writeFileSync(path.join(dir, 'bundle.img'), bundle);
      writeFileSync(path.join(dir, 'bundle.p7s'), p7s);
      const verify = (content: string) =>
        spawnSync('openssl', [
          ...['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'bundle.p7s')],
          ...['-content', content, '-CAfile', path.join(dir, 'root.pem'), '-out', '/dev/null'],
        ]);
      const ok = verify(path.join(dir, 'bundle.img'));
      expect(ok.stderr.toString()).toMatch(/Verification successful/);
      expect(ok.status).toBe(0);
      const changed = Buffer.from(bundle);
      changed[1000]! ^= 1;
      writeFileSync(path.join(dir, 'changed.img'), changed);
      expect(verify(path.join(dir, 'changed.img')).status).not.toBe(0);
      // Devices of other batches cannot fetch it; a raw update has no CMS signature.
      expect((await dev('GET', `/device/v1/updates/${u.id}/signature`, gwDevice)).status).toBe(404);
    });

    it('ok/deleting a batch takes its rollout with it', async () => {
      const u = (await rollout(batches.linux)).update!;
      expect((await api('DELETE', `/api/v1/batches/${batches.linux}`)).status).toBe(204);
      const left = await server.runtime.db.kysely
        .selectFrom('firmware_update_devices')
        .select('device_id')
        .where('update_id', '=', u.id)
        .execute();
      expect(left).toEqual([]);
      expect((await dev('GET', `/device/v1/updates/${u.id}/manifest`, linuxDevice)).status).toBe(
        401,
      );
      // The firmware is free again, its signatures stay listed.
      const fw = (await api('GET', `/api/v1/firmware/${firmware.linux!.id}`)).json<Firmware>();
      expect(fw.batches).toEqual([]);
      expect(fw.signatures.map((x) => x.kind).sort()).toEqual(['cms', 'manifest']);
    });
  });
}
