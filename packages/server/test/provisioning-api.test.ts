import { createECDH, randomBytes } from 'node:crypto';
import {
  PROVISIONING_CONFIG_OFFSET,
  decodeProvisioningConfig,
  formatIdentityLine,
} from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyEsp32SecureBootV2 } from '../src/firmware/esp32-sbv2-fns.js';
import { esp32KeyDigest } from '../src/firmware/esp32-sbv2-key-fns.js';
import type { Firmware } from '../src/firmware/firmware-types.js';
import type { FlashPlan, Task } from '../src/provisioning/provisioning-types.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { deviceKey } from '../src/test-helpers/test-csr.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { firmwareApi } from '../src/test-helpers/test-firmware.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const TASKS = '/api/v1/provisioning-tasks';
const WIFI = { ssid: 'Factory-2.4G', password: 'line-3-wifi-Qx81' };

/** A P-256 key in a valid DER SPKI, but with the point compressed: not the canonical form. */
function compressedSpki(): Buffer {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const point = ecdh.getPublicKey(undefined, 'compressed');
  return Buffer.concat([
    Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
    point,
  ]);
}

for (const dialect of TEST_DIALECTS) {
  describe(`provisioning tasks on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    let fa: ReturnType<typeof firmwareApi>;
    const fw: Record<string, Firmware> = {};
    const batches = { signed: '', unsigned: '', other: '', p256: '' };
    let rsaSpki: Buffer;

    const call = (method: string, url: string, body?: unknown, who = admin) =>
      server.request(method, url, { body, headers: who.headers });
    const input = (change: Record<string, unknown> = {}) => ({
      name: 'Sensor line',
      deviceType: 'esp32',
      bootloaderKind: 'release',
      bootloaderFirmwareId: fw.boot!.id,
      partitionTableFirmwareId: fw.table!.id,
      iefFirmwareId: fw.ief!.id,
      batchId: batches.signed,
      ...change,
    });
    async function task(change: Record<string, unknown> = {}): Promise<Task> {
      const r = await call('POST', TASKS, input(change));
      expect(r.status, r.text).toBe(201);
      return r.json<Task>();
    }
    async function start(t: Task, who = admin): Promise<FlashPlan> {
      const r = await call('POST', `${TASKS}/${t.id}/runs`, { wifi: WIFI }, who);
      expect(r.status, r.text).toBe(201);
      return r.json<FlashPlan>();
    }
    const identity = (t: Task, plan: FlashPlan, line: string, who = admin) =>
      call('POST', `${TASKS}/${t.id}/runs/${plan.run.id}/identity`, { line }, who);
    const devicesOf = async (batchId: string) =>
      (await call('GET', `/api/v1/batches/${batchId}/devices`))
        .json<{ items: { id: string }[] }>()
        .items.map((d) => d.id);
    const audit = async (action: string) =>
      (await call('GET', `/api/v1/audit?action=${action}&limit=100`)).json<{
        entries: { action: string; result: string; details: Record<string, unknown> }[];
      }>().entries;

    beforeAll(async () => {
      server = await startTestServer(dialect);
      ({ admin, contributor } = await createTestUsers(server));
      fa = firmwareApi(server, admin);
      fw.boot = await fa.upload(
        'name=Bootloader&version=5.3&format=esp32-sbv2',
        randomBytes(20_000),
      );
      fw.table = await fa.upload('name=Partitions&version=1', randomBytes(3072));
      fw.ief = await fa.upload('name=IEF&version=1.0&format=esp32-sbv2', randomBytes(70_001));
      fw.app = await fa.upload('name=App&version=2.0&format=esp32-sbv2', randomBytes(1000));
      batches.signed = await fa.batch('Line 1');
      batches.unsigned = await fa.batch('Line 2');
      batches.other = await fa.batch('Line 3');
      batches.p256 = await fa.batch('Line 4');
      const rsa = await fa.signingKey('Release RSA', 'RSA-3072');
      rsaSpki = rsa.spki;
      const p256 = await fa.signingKey('Release P-256', 'P-256');
      expect((await fa.assign(batches.signed, fw.app!.id, rsa.id)).status).toBe(200);
      expect((await fa.assign(batches.p256, fw.app!.id, p256.id)).status).toBe(200);
    }, 60_000);
    afterAll(async () => {
      await server?.close();
    });

    it('fail/invalid tasks: 400 naming the field, 409 for a taken name, nothing written', async () => {
      const cases: [Record<string, unknown>, number, RegExp][] = [
        [{ name: '' }, 400, /name/],
        [{ deviceType: 'esp8266' }, 400, /deviceType/],
        [{ bootloaderKind: 'secure' }, 400, /bootloaderKind/],
        [{ bootloaderFirmwareId: 'nope' }, 400, /bootloader: firmware nope does not exist/],
        [{ iefFirmwareId: fw.table!.id }, 400, /must be an ESP32 image/],
        [{ partitionTableFirmwareId: fw.boot!.id }, 400, /a partition table is a raw image/],
        [{ batchId: 'nope' }, 400, /batch nope does not exist/],
        [{ batchId: batches.unsigned }, 400, /batch "Line 2" has no signing key/],
        [{ batchId: batches.p256 }, 400, /ESP32 secure boot verifies only RSA-3072/],
        [{ extra: 1 }, 400, /extra|Unrecognized/i],
      ];
      for (const [change, status, message] of cases) {
        const r = await call('POST', TASKS, input(change));
        expect(r.status, JSON.stringify(change)).toBe(status);
        expect(r.json<{ detail: string }>().detail).toMatch(message);
      }
      expect((await call('GET', TASKS)).json<{ items: Task[] }>().items).toEqual([]);
      expect(await audit('provisioning.task.create')).toEqual([]);
    });

    it('ok/administrators create, edit and delete; contributors list and run but cannot change', async () => {
      const t = await task({ name: 'Temp' });
      expect(t).toMatchObject({
        name: 'Temp',
        deviceType: 'esp32',
        bootloaderKind: 'release',
        bootloader: { id: fw.boot!.id, name: 'Bootloader' },
        batch: { id: batches.signed, name: 'Line 1' },
      });
      expect((await call('POST', TASKS, input({ name: 'Temp' }))).status).toBe(409);
      expect(
        (await call('POST', TASKS, input({ name: 'By contributor' }), contributor)).status,
      ).toBe(403);
      expect((await call('PUT', `${TASKS}/${t.id}`, input(), contributor)).status).toBe(403);
      expect((await call('DELETE', `${TASKS}/${t.id}`, undefined, contributor)).status).toBe(403);
      expect(
        (await call('GET', TASKS, undefined, contributor)).json<{ items: Task[] }>().items,
      ).toHaveLength(1);
      // Development on ESP32-C6 with a P-256 batch: the chip verifies P-256.
      const edited = await call(
        'PUT',
        `${TASKS}/${t.id}`,
        input({
          name: 'Temp 2',
          deviceType: 'esp32-c6',
          bootloaderKind: 'development',
          batchId: batches.p256,
        }),
      );
      expect(edited.status, edited.text).toBe(200);
      expect(edited.json<Task>()).toMatchObject({ name: 'Temp 2', deviceType: 'esp32-c6' });
      expect((await call('DELETE', `${TASKS}/${t.id}`)).status).toBe(204);
      expect((await call('GET', `${TASKS}/${t.id}`)).status).toBe(404);
      for (const a of ['create', 'update', 'delete'])
        expect(await audit(`provisioning.task.${a}`)).toHaveLength(1);
    });

    it('ok/a run: signed images at the chip offsets, the config blob, then the device ID joins the batch', async () => {
      const t = await task();
      const plan = await start(t, contributor);
      expect(plan).toMatchObject({
        chip: 'ESP32',
        bootloaderKind: 'release',
        signingKey: { name: 'Release RSA' },
      });
      expect(plan.images.map((i) => [i.part, i.address, i.signed])).toEqual([
        ['bootloader', 0x1000, true],
        ['partition-table', 0x8000, false],
        ['config', PROVISIONING_CONFIG_OFFSET, false],
        ['ief', 0x10000, true],
      ]);
      const bytes = (part: string) =>
        Buffer.from(plan.images.find((i) => i.part === part)!.data, 'base64');
      for (const part of ['bootloader', 'ief']) {
        const v = verifyEsp32SecureBootV2(bytes(part), {
          trustedKeyDigests: [esp32KeyDigest(rsaSpki)],
        });
        expect(v.ok, part).toBe(true);
      }
      const config = decodeProvisioningConfig(bytes('config'));
      expect(config).toMatchObject({
        ok: true,
        config: {
          deviceUrl: `https://localhost:${new URL(server.deviceUrl).port}`,
          instanceId: server.runtime.instance.id,
          batchId: batches.signed,
          bootloader: 'release',
          wifi: WIFI,
        },
      });
      if (config.ok)
        expect(Buffer.from(config.config.rootCa, 'base64')).toEqual(
          (await server.runtime.pki.root(server.runtime.instance.id)).der,
        );

      const device = deviceKey('P-256');
      const done = await identity(t, plan, `${formatIdentityLine(device.spkiDer)}\r`, contributor);
      expect(done.status, done.text).toBe(200);
      expect(done.json()).toMatchObject({
        deviceId: device.deviceId,
        batch: { id: batches.signed, name: 'Line 1' },
        alreadyInBatch: false,
        run: { status: 'finished', deviceId: device.deviceId },
      });
      expect(await devicesOf(batches.signed)).toContain(device.deviceId);
      // A run ends once.
      expect((await identity(t, plan, formatIdentityLine(device.spkiDer))).status).toBe(409);

      // The same device flashed again: already in this batch, said so, nothing added.
      const again = await identity(t, await start(t), formatIdentityLine(device.spkiDer));
      expect(again.status, again.text).toBe(200);
      expect(again.json()).toMatchObject({ alreadyInBatch: true });

      const started = await audit('provisioning.run.start');
      expect(started[0]!.details).toMatchObject({ batchId: batches.signed, deviceType: 'esp32' });
      // The password is in the blob sent to the console only; never in the log.
      expect(JSON.stringify(started)).not.toContain(WIFI.password);
      const finished = await audit('provisioning.run.finish');
      expect(finished.map((e) => e.details.deviceId)).toEqual([device.deviceId, device.deviceId]);
      const runs = (await call('GET', `${TASKS}/${t.id}/runs`)).json<{
        items: { status: string }[];
      }>();
      expect(runs.items.map((r) => r.status)).toEqual(['finished', 'finished']);
    });

    it('fail/refused identities end the run as failed, audited, and add nothing', async () => {
      const t = (await call('GET', TASKS))
        .json<{ items: Task[] }>()
        .items.find((x) => x.name === 'Sensor line')!;
      const before = await devicesOf(batches.signed);
      const cases: [string, number, RegExp][] = [
        ['I (312) boot: ESP-IDF v5.3', 400, /bad identity line/],
        [`TRUSTLINK-IDENTITY v1 ${compressedSpki().toString('base64')}`, 400, /compressed-point/],
        [
          `TRUSTLINK-IDENTITY v1 ${deviceKey('P-256').spkiDer.toString('base64url')}`,
          400,
          /base64/,
        ],
      ];
      for (const [line, status, message] of cases) {
        const plan = await start(t);
        const r = await identity(t, plan, line);
        expect(r.status, line).toBe(status);
        expect(r.json<{ detail: string }>().detail).toMatch(message);
        expect(r.json()).toMatchObject({ type: expect.stringMatching(/identity-refused$/) });
      }
      // A device already in another batch: 409, named.
      const elsewhere = deviceKey('P-256');
      expect(
        (
          await call('POST', `/api/v1/batches/${batches.other}/devices`, {
            deviceId: elsewhere.deviceId,
          })
        ).status,
      ).toBe(200);
      const plan = await start(t);
      const r = await identity(t, plan, formatIdentityLine(elsewhere.spkiDer));
      expect(r.status).toBe(409);
      expect(r.json<{ detail: string }>().detail).toMatch(/already in batch "Line 3"/);
      expect(await devicesOf(batches.signed)).toEqual(before);
      const failed = await audit('provisioning.run.fail');
      expect(failed).toHaveLength(4);
      expect(failed.every((e) => e.result === 'failed')).toBe(true);

      // The console reports a flash it could not finish.
      const broken = await start(t);
      const f = await call('POST', `${TASKS}/${t.id}/runs/${broken.run.id}/failure`, {
        reason: 'the serial port closed while writing',
      });
      expect(f.status, f.text).toBe(200);
      expect(f.json()).toMatchObject({
        status: 'failed',
        reason: 'the serial port closed while writing',
      });
      expect(await audit('provisioning.run.fail')).toHaveLength(5);
      expect((await identity(t, broken, formatIdentityLine(deviceKey().spkiDer))).status).toBe(409);
    });

    it("ok/a task's runs, a page at a time, newest first, for contributors too; bad paging is 400", async () => {
      const t = await task({ name: 'Paged line' });
      const plans: FlashPlan[] = [];
      for (let i = 0; i < 3; i++) plans.push(await start(t, i === 0 ? contributor : admin));
      const device = deviceKey('P-256');
      expect((await identity(t, plans[1]!, formatIdentityLine(device.spkiDer))).status).toBe(200);
      const failure = `${TASKS}/${t.id}/runs/${plans[2]!.run.id}/failure`;
      expect((await call('POST', failure, { reason: 'cable pulled' })).status).toBe(200);
      type Page = {
        items: {
          id: string;
          status: string;
          deviceId: string | null;
          reason: string | null;
          startedBy: string;
        }[];
        total: number;
      };
      const page = async (q: string, who = admin) => {
        const r = await call('GET', `${TASKS}/${t.id}/runs${q}`, undefined, who);
        expect(r.status, r.text).toBe(200);
        return r.json<Page>();
      };
      const all = await page('', contributor);
      expect(all.total).toBe(3);
      // Newest first.
      expect(all.items.map((r) => r.id)).toEqual(plans.map((p) => p.run.id).reverse());
      expect(all.items.map((r) => [r.status, r.deviceId, r.reason])).toEqual([
        ['failed', null, 'cable pulled'],
        ['finished', device.deviceId, null],
        ['started', null, null],
      ]);
      expect(all.items[2]!.startedBy).not.toBe(all.items[1]!.startedBy);
      const first = await page('?limit=2');
      const second = await page('?limit=2&offset=2');
      expect([...first.items, ...second.items].map((r) => r.id)).toEqual(
        all.items.map((r) => r.id),
      );
      expect(second).toMatchObject({ total: 3, items: [{ status: 'started' }] });
      for (const q of ['?limit=0', '?limit=201', '?offset=-1', '?limit=two'])
        expect((await call('GET', `${TASKS}/${t.id}/runs${q}`)).status, q).toBe(400);
      expect((await call('GET', `${TASKS}/nope/runs`)).status).toBe(404);
      // Leave no run started for the sweep test below.
      await call('POST', `${TASKS}/${t.id}/runs/${plans[0]!.run.id}/failure`, { reason: 'done' });
      expect((await call('DELETE', `${TASKS}/${t.id}`)).status).toBe(204);
    });

    it('fail/a run nobody ends is abandoned after the expiry, audited once; its late identity is 409', async () => {
      const t = (await call('GET', TASKS))
        .json<{ items: Task[] }>()
        .items.find((x) => x.name === 'Sensor line')!;
      const before = await devicesOf(batches.signed);
      const plan = await start(t, contributor);
      const runs = server.runtime.provisioning.runs;
      const inMinutes = (m: number) => new Date(Date.now() + m * 60_000);
      // Within the expiry (30 minutes by default) the run stays open.
      expect(await runs.abandonStale(inMinutes(29))).toBe(0);
      expect(await runs.abandonStale(inMinutes(31))).toBe(1);
      // The sweep is idempotent: a second replica running it too ends nothing more.
      expect(await runs.abandonStale(inMinutes(32))).toBe(0);

      const listed = (await call('GET', `${TASKS}/${t.id}/runs?limit=1`)).json<{
        items: { id: string; status: string; reason: string }[];
      }>().items[0]!;
      expect(listed).toMatchObject({ id: plan.run.id, status: 'abandoned' });
      expect(listed.reason).toMatch(/no result within 30 minutes/);
      const entries = (await call('GET', '/api/v1/audit?action=provisioning.run.abandon')).json<{
        entries: {
          actor: { type: string };
          result: string;
          target: { name: string };
          details: Record<string, unknown>;
        }[];
      }>().entries;
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        actor: { type: 'system' },
        result: 'failed',
        target: { name: 'Sensor line' },
        details: { runId: plan.run.id, startedBy: expect.stringMatching(/contributor/) },
      });

      const late = await identity(t, plan, formatIdentityLine(deviceKey('P-256').spkiDer));
      expect(late.status).toBe(409);
      expect(late.json()).toMatchObject({ type: expect.stringMatching(/run-abandoned$/) });
      expect(late.json<{ detail: string }>().detail).toMatch(
        /this run was abandoned: .*flash the device again in a new run/,
      );
      const fail = await call('POST', `${TASKS}/${t.id}/runs/${plan.run.id}/failure`, {
        reason: 'late',
      });
      expect(fail.status).toBe(409);
      expect(await devicesOf(batches.signed)).toEqual(before);
    });

    it('fail/firmware and batches a task uses cannot be deleted; a task whose batch lost its key cannot run', async () => {
      const t = (await call('GET', TASKS))
        .json<{ items: Task[] }>()
        .items.find((x) => x.name === 'Sensor line')!;
      const delFw = await call('DELETE', `/api/v1/firmware/${fw.ief!.id}`);
      expect(delFw.status).toBe(409);
      expect(delFw.json<{ detail: string }>().detail).toMatch(
        /used by provisioning task "Sensor line"/,
      );
      const delBatch = await call('DELETE', `/api/v1/batches/${batches.signed}`);
      expect(delBatch.status).toBe(409);
      expect(delBatch.json<{ detail: string }>().detail).toMatch(
        /used by provisioning task "Sensor line"/,
      );

      expect((await call('DELETE', `/api/v1/batches/${batches.signed}/firmware`)).status).toBe(204);
      const batch = (await call('GET', `/api/v1/batches/${batches.signed}`)).json<{
        signingKeyId: string | null;
      }>();
      expect(batch.signingKeyId).toBeNull();
      const r = await call('POST', `${TASKS}/${t.id}/runs`, { wifi: WIFI });
      expect(r.status).toBe(409);
      expect(r.json<{ detail: string }>().detail).toMatch(
        /cannot run as it stands: .*no signing key/,
      );
      const bad = await call('POST', `${TASKS}/${t.id}/runs`, {
        wifi: { ssid: 'x', password: 'short' },
      });
      expect(bad.status).toBe(400);
      expect(await call('POST', `${TASKS}/nope/runs`, { wifi: WIFI }).then((r) => r.status)).toBe(
        404,
      );
    });
  });
}
