import { createHash, randomBytes } from 'node:crypto';
import { checkImageAgainstManifest, verifyManifest } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Firmware, Rollout, UpdateView } from '../src/firmware/firmware-types.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  createTestDevice,
  firmwareApi,
  interruptedDownload,
  pipelinedRanges,
  tlsCertificateAuthenticator,
  type TestDevice,
} from '../src/test-helpers/test-firmware.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Key {
  id: string;
  spki: Buffer;
}

for (const dialect of TEST_DIALECTS) {
  describe(`firmware assignment, manifest and rollout on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    let fa: ReturnType<typeof firmwareApi>;
    let p256: Key;
    let rsa: Key;
    const batches = { gw: '', other: '' };
    const devices: TestDevice[] = [];
    let otherDevice: TestDevice;
    const images = { gw: randomBytes(600_000) };
    const firmware: Record<string, Firmware> = {};

    const api = (method: string, url: string, body?: unknown, who?: TestPrincipal) =>
      fa.call(method, url, body, who);
    const dev = (
      method: string,
      url: string,
      d: TestDevice,
      opts: { body?: unknown; headers?: Record<string, string> } = {},
    ) => server.deviceRequest(method, url, { ...opts, ...d.tls });
    const assign = (batch: string, firmwareId: string, signingKeyId: string, who = admin) =>
      fa.assign(batch, firmwareId, signingKeyId, who);
    const rollout = (batch: string) => fa.rollout(batch);

    beforeAll(async () => {
      server = await startTestServer(dialect, {
        authenticateDevice: tlsCertificateAuthenticator(() => server.runtime),
      });
      ({ admin, contributor } = await createTestUsers(server));
      fa = firmwareApi(server, admin);
      batches.gw = await fa.batch('Gateways', [{ name: 'board', value: 'tl-gw-2' }]);
      batches.other = await fa.batch('Others');
      devices.push(
        await createTestDevice(server, batches.gw),
        await createTestDevice(server, batches.gw),
      );
      otherDevice = await createTestDevice(server, batches.other);
      p256 = await fa.signingKey('Release P-256', 'P-256');
      rsa = await fa.signingKey('Release RSA', 'RSA-3072');
      firmware.gw = await fa.upload(
        'name=Gateway&version=2.4.1&securityVersion=7&attr=board:tl-gw-2&attr=soc:imx8mm',
        images.gw,
      );
      firmware.other = await fa.upload(
        'name=Other%20board&version=1&attr=board:tl-xx',
        randomBytes(10),
      );
    });
    afterAll(async () => server?.close());

    it('fail/contributors get 403 on assignment; a wrong key, firmware or filter is refused', async () => {
      expect((await assign(batches.gw, firmware.gw!.id, p256.id, contributor)).status).toBe(403);
      expect(
        (await api('DELETE', `/api/v1/batches/${batches.gw}/firmware`, undefined, contributor))
          .status,
      ).toBe(403);
      const noKey = await assign(batches.gw, firmware.gw!.id, 'nope');
      expect(noKey.status).toBe(400);
      expect(noKey.json()).toMatchObject({ errors: [{ path: 'signingKeyId' }] });
      expect((await assign(batches.gw, 'nope', p256.id)).status).toBe(400);
      expect((await assign('nope', firmware.gw!.id, p256.id)).status).toBe(404);
      // A root CA key is in the key store too, but it is not a signing key.
      const root = await server.runtime.pki.root(server.runtime.instance.id);
      expect((await assign(batches.gw, firmware.gw!.id, root.keyId)).status).toBe(400);
      const mismatch = await assign(batches.gw, firmware.other!.id, p256.id);
      expect(mismatch.status).toBe(409);
      expect(mismatch.json()).toMatchObject({
        type: expect.stringMatching(/attribute-filter-mismatch$/),
      });
      expect((await rollout(batches.gw)).update).toBeNull();
    });

    let updateId: string;
    let manifest: string;

    it('ok/assignment signs a manifest that verifies with the batch key, and starts every device', async () => {
      const res = await assign(batches.gw, firmware.gw!.id, p256.id);
      expect(res.status, res.text).toBe(200);
      const u = res.json<UpdateView>();
      updateId = u.id;
      expect(u).toMatchObject({
        batchId: batches.gw,
        firmwareId: firmware.gw!.id,
        signingKeyId: p256.id,
        imageSha256: sha256(images.gw),
        imageSize: images.gw.length,
      });
      const r = await rollout(batches.gw);
      expect(r.counts).toMatchObject({ total: 2, pending: 2, installed: 0 });
      expect(r.items.map((d) => d.deviceId).sort()).toEqual(devices.map((d) => d.deviceId).sort());
      const batch = (await api('GET', `/api/v1/batches/${batches.gw}`)).json<{
        firmwareId: string;
        signingKeyId: string;
      }>();
      expect(batch).toMatchObject({ firmwareId: firmware.gw!.id, signingKeyId: p256.id });

      const m = await dev('GET', `/device/v1/updates/${updateId}/manifest`, devices[0]!);
      expect(m.status, m.text).toBe(200);
      expect(m.headers['content-type']).toMatch(/^application\/jose/);
      manifest = m.text;
      const v = verifyManifest(manifest, {
        publicKeySpki: p256.spki,
        expected: {
          instanceId: server.runtime.instance.id,
          deviceId: devices[0]!.deviceId,
          batchId: batches.gw,
          hardware: { board: 'tl-gw-2', soc: 'imx8mm', ram: '2G' },
          installedSecurityVersion: 6,
          now: new Date(),
          kid: p256.id,
        },
      });
      expect(v).toMatchObject({ ok: true, keyType: 'P-256', kid: p256.id });
      if (!v.ok) return;
      expect(v.manifest).toMatchObject({
        batchId: batches.gw,
        firmwareId: firmware.gw!.id,
        name: 'Gateway',
        version: '2.4.1',
        securityVersion: 7,
        hardware: { board: 'tl-gw-2', soc: 'imx8mm' },
        size: images.gw.length,
        sha256: sha256(images.gw),
        format: 'raw',
      });
      expect(manifest.split('.')[0]).toBe(
        Buffer.from(
          JSON.stringify({ alg: 'ES256', kid: p256.id, typ: 'trustlink-manifest+jws' }),
        ).toString('base64url'),
      );
      // The firmware list shows the key that signed it.
      const fw = (await api('GET', `/api/v1/firmware/${firmware.gw!.id}`)).json<Firmware>();
      expect(fw.signatures).toMatchObject([
        { keyId: p256.id, keyName: 'Release P-256', kind: 'manifest' },
      ]);
      expect(fw.batches).toEqual([{ id: batches.gw, name: 'Gateways' }]);
    });

    it('fail/the verifier refuses a rollback, an expired manifest, another key and another batch', () => {
      const expected = {
        instanceId: server.runtime.instance.id,
        deviceId: devices[0]!.deviceId,
        batchId: batches.gw,
        hardware: { board: 'tl-gw-2', soc: 'imx8mm' },
        installedSecurityVersion: 7,
        now: new Date(),
      };
      const check = (e: Partial<typeof expected>, spki = p256.spki) =>
        verifyManifest(manifest, { publicKeySpki: spki, expected: { ...expected, ...e } });
      expect(check({})).toMatchObject({ ok: true });
      expect(check({ installedSecurityVersion: 8 })).toMatchObject({
        ok: false,
        reason: 'rollback',
      });
      const expiry = Date.parse(
        JSON.parse(Buffer.from(manifest.split('.')[1]!, 'base64url').toString()).expiresAt,
      );
      expect(expiry - Date.now()).toBeGreaterThan(29 * 86400_000);
      expect(check({ now: new Date(expiry) })).toMatchObject({ ok: false, reason: 'expired' });
      expect(check({}, rsa.spki)).toMatchObject({ ok: false, reason: 'alg-mismatch' });
      expect(check({ batchId: batches.other })).toMatchObject({ ok: false, reason: 'wrong-batch' });
      expect(check({ hardware: { board: 'tl-gw-3', soc: 'imx8mm' } })).toMatchObject({
        ok: false,
        reason: 'hardware-mismatch',
      });
    });

    it('ok/the status check-in is told an update is waiting', async () => {
      const { devices: updates } = server.runtime.firmware;
      const i = server.runtime.instance.id;
      expect(await updates.pendingUpdateFor(i, devices[0]!.deviceId, batches.gw)).toEqual({
        id: updateId,
        manifestUrl: `/device/v1/updates/${updateId}/manifest`,
      });
      expect(await updates.pendingUpdateFor(i, devices[1]!.deviceId)).toMatchObject({
        id: updateId,
      });
      expect(
        await updates.pendingUpdateFor(i, otherDevice.deviceId, batches.other),
      ).toBeUndefined();
    });

    it('ok/a device downloads with a resumed Range request, reports installed, and the batch shows it', async () => {
      const d = devices[0]!;
      const url = `/device/v1/updates/${updateId}/image`;
      const first = await interruptedDownload(server, url, d, 250_000);
      expect(first.status).toBe(200);
      expect(first.headers['accept-ranges']).toBe('bytes');
      const etag = first.headers.etag as string;
      expect(etag).toBe(`"${sha256(images.gw)}"`);
      expect(first.body.length).toBe(250_000);
      expect(
        (await rollout(batches.gw)).items.find((x) => x.deviceId === d.deviceId),
      ).toMatchObject({ status: 'downloading', downloadingAt: expect.any(String) });
      await dev('POST', `/device/v1/updates/${updateId}/report`, d, {
        body: { status: 'downloading', at: new Date().toISOString() },
      });

      const rest = await dev('GET', url, d, {
        headers: { range: `bytes=${first.body.length}-`, 'if-range': etag },
      });
      expect(rest.status).toBe(206);
      expect(rest.headers['content-range']).toBe(
        `bytes 250000-${images.gw.length - 1}/${images.gw.length}`,
      );
      const whole = Buffer.concat([first.body, rest.body]);
      expect(sha256(whole)).toBe(sha256(images.gw));
      const payload = JSON.parse(Buffer.from(manifest.split('.')[1]!, 'base64url').toString());
      expect(
        checkImageAgainstManifest(payload, { size: whole.length, sha256: sha256(whole) }),
      ).toEqual({ ok: true });

      for (const status of ['installing', 'installed'] as const) {
        const rep = await dev('POST', `/device/v1/updates/${updateId}/report`, d, {
          body: { status, at: new Date().toISOString() },
        });
        expect(rep.status, rep.text).toBe(204);
      }
      // A late report never moves it back.
      await dev('POST', `/device/v1/updates/${updateId}/report`, d, {
        body: { status: 'downloading', at: new Date().toISOString() },
      });
      const r = await rollout(batches.gw);
      expect(r.counts).toMatchObject({ total: 2, pending: 1, installed: 1 });
      expect(r.items.find((x) => x.deviceId === d.deviceId)).toMatchObject({
        status: 'installed',
        downloadingAt: expect.any(String),
        installingAt: expect.any(String),
        installedAt: expect.any(String),
        reportedAt: expect.any(String),
        reason: null,
      });
      expect(
        await server.runtime.firmware.devices.pendingUpdateFor(
          server.runtime.instance.id,
          d.deviceId,
          batches.gw,
        ),
      ).toBeUndefined();
    });

    it('ok/ranges: suffix, If-None-Match, a changed If-Range and an unsatisfiable one', async () => {
      const d = devices[1]!;
      const url = `/device/v1/updates/${updateId}/image`;
      const etag = `"${sha256(images.gw)}"`;
      const tail = await dev('GET', url, d, { headers: { range: 'bytes=-100' } });
      expect(tail.status).toBe(206);
      expect(tail.body.equals(images.gw.subarray(-100))).toBe(true);
      // The body bypasses Fastify's reply; every header it would send is still there.
      expect(tail.headers['content-range']).toBe(
        `bytes ${images.gw.length - 100}-${images.gw.length - 1}/${images.gw.length}`,
      );
      expect(tail.headers['content-length']).toBe('100');
      expect(tail.headers['content-type']).toBe('application/octet-stream');
      expect(tail.headers['accept-ranges']).toBe('bytes');
      expect(tail.headers['cache-control']).toBe('private, no-transform');
      expect(tail.headers.etag).toBe(etag);
      expect(tail.headers['x-request-id']).toMatch(/.+/);
      const head = await dev('HEAD', url, d);
      expect(head.status).toBe(200);
      expect(head.headers['content-length']).toBe(String(images.gw.length));
      expect(head.headers.etag).toBe(etag);
      expect(head.body.length).toBe(0);
      expect((await dev('GET', url, d, { headers: { 'if-none-match': etag } })).status).toBe(304);
      const stale = await dev('GET', url, d, {
        headers: { range: 'bytes=10-', 'if-range': '"old"' },
      });
      expect(stale.status).toBe(200);
      expect(stale.body.equals(images.gw)).toBe(true);
      const beyond = await dev('GET', url, d, { headers: { range: `bytes=${images.gw.length}-` } });
      expect(beyond.status).toBe(416);
      expect(beyond.headers['content-range']).toBe(`bytes */${images.gw.length}`);
    });

    it('ok/ranges on one connection, pipelined, before and after the image is held in memory: each a 206 with its bytes, in order', async () => {
      const d = devices[1]!;
      const url = `/device/v1/updates/${updateId}/image`;
      const n = images.gw.length;
      const ranges: [string, number, number][] = [
        ['bytes=0-299999', 0, 299_999],
        ['bytes=300000-', 300_000, n - 1],
        ['bytes=-1', n - 1, n - 1],
        ['bytes=262143-524288', 262_143, 524_288],
      ];
      const check = (got: Awaited<ReturnType<typeof pipelinedRanges>>) =>
        ranges.forEach(([, start, end], i) => {
          expect(got[i]!.status).toBe(206);
          expect(got[i]!.headers['content-range']).toBe(`bytes ${start}-${end}/${n}`);
          expect(got[i]!.body.equals(images.gw.subarray(start, end + 1))).toBe(true);
        });
      check(
        await pipelinedRanges(
          server,
          url,
          d,
          ranges.map(([r]) => r),
        ),
      );
      // The first download loaded the image; these are sent from memory.
      const blobs = server.runtime.firmware.blobs;
      for (let i = 0; i < 500 && blobs.held().blobs === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(blobs.held()).toMatchObject({ blobs: 1, bytes: n });
      check(
        await pipelinedRanges(
          server,
          url,
          d,
          ranges.map(([r]) => r),
        ),
      );
      check(
        await pipelinedRanges(
          server,
          url,
          d,
          [...ranges, ...ranges].map(([r]) => r),
        ).then((x) => x.slice(4)),
      );
    });

    it('ok/a failure is recorded with its reason and audited', async () => {
      const d = devices[1]!;
      const rep = await dev('POST', `/device/v1/updates/${updateId}/report`, d, {
        body: {
          status: 'failed',
          detail: 'rollback: securityVersion 7 is below the installed 9',
          at: new Date().toISOString(),
        },
      });
      expect(rep.status).toBe(204);
      const r = await rollout(batches.gw);
      expect(r.counts).toMatchObject({
        total: 2,
        installed: 1,
        failed: 1,
        pending: 0,
        downloading: 0,
      });
      expect(r.items.find((x) => x.deviceId === d.deviceId)).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(/^rollback/),
        failedAt: expect.any(String),
      });
      const failed = await server.runtime.db.kysely
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'firmware.update.failed')
        .execute();
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({
        actor_type: 'device',
        actor_id: d.deviceId,
        result: 'failed',
      });
      const only = await api('GET', `/api/v1/batches/${batches.gw}/rollout?status=failed`);
      expect(only.json<Rollout>().items.map((x) => x.deviceId)).toEqual([d.deviceId]);
    });

    it('ok/one device: its entry alone, the batch counts beside it; fail/a malformed device ID', async () => {
      const [installed, failed] = [devices[0]!, devices[1]!];
      const one = async (q: string) => {
        const res = await api('GET', `/api/v1/batches/${batches.gw}/rollout?${q}`);
        expect(res.status, res.text).toBe(200);
        return res.json<Rollout>();
      };
      const r = await one(`deviceId=${failed.deviceId}`);
      expect(r.items).toEqual([
        expect.objectContaining({ deviceId: failed.deviceId, status: 'failed' }),
      ]);
      expect(r.total).toBe(1);
      expect(r.counts).toMatchObject({ total: 2, installed: 1, failed: 1 });
      expect((await one(`deviceId=${installed.deviceId}`)).items).toEqual([
        expect.objectContaining({ deviceId: installed.deviceId, status: 'installed' }),
      ]);
      // With a status too, both must hold; a device not in the update is simply not there.
      expect(await one(`deviceId=${installed.deviceId}&status=failed`)).toMatchObject({
        items: [],
        total: 0,
      });
      expect(await one(`deviceId=${'0'.repeat(64)}`)).toMatchObject({ items: [], total: 0 });
      for (const bad of [failed.deviceId.toUpperCase(), failed.deviceId.slice(1), 'x'.repeat(64)]) {
        const res = await api('GET', `/api/v1/batches/${batches.gw}/rollout?deviceId=${bad}`);
        expect(res.status, res.text).toBe(400);
        expect(res.json()).toMatchObject({
          errors: [
            { path: 'querystring.deviceId', message: expect.stringMatching(/64 lowercase hex/) },
          ],
        });
      }
    });

    it("fail/devices without a certificate get 401; others' updates and bad reports are refused", async () => {
      const url = `/device/v1/updates/${updateId}/manifest`;
      expect((await server.deviceRequest('GET', url)).status).toBe(401);
      const other = await dev('GET', url, otherDevice);
      expect(other.status).toBe(404);
      expect((await dev('GET', `/device/v1/updates/${updateId}/image`, otherDevice)).status).toBe(
        404,
      );
      expect((await dev('GET', '/device/v1/updates/nope/manifest', devices[0]!)).status).toBe(404);
      const bad = await dev('POST', `/device/v1/updates/${updateId}/report`, devices[0]!, {
        body: { status: 'pending', at: new Date().toISOString() },
      });
      expect(bad.status).toBe(400);
      const extra = await dev('POST', `/device/v1/updates/${updateId}/report`, devices[0]!, {
        body: { status: 'installed', at: new Date().toISOString(), x: 1 },
      });
      expect(extra.status).toBe(400);
    });

    it('fail/firmware and keys in use cannot be deleted; after unassigning they can', async () => {
      const delFw = await api('DELETE', `/api/v1/firmware/${firmware.gw!.id}`);
      expect(delFw.status).toBe(409);
      const delKey = await api('DELETE', `/api/v1/pki/signing-keys/${p256.id}`);
      expect(delKey.status).toBe(409);
      expect(delKey.json()).toMatchObject({ usedBy: expect.arrayContaining(['batch "Gateways"']) });
      expect((await api('DELETE', `/api/v1/batches/${batches.gw}/firmware`)).status).toBe(204);
      expect((await rollout(batches.gw)).update).toBeNull();
      expect(
        await server.runtime.firmware.devices.pendingUpdateFor(
          server.runtime.instance.id,
          devices[1]!.deviceId,
          batches.gw,
        ),
      ).toBeUndefined();
      // A superseded update is gone for devices.
      expect(
        (await dev('GET', `/device/v1/updates/${updateId}/manifest`, devices[0]!)).status,
      ).toBe(404);
      expect((await api('DELETE', `/api/v1/firmware/${firmware.gw!.id}`)).status).toBe(204);
    });
  });
}
