import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers, type TestPrincipal } from '../../server/src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../../server/src/test-helpers/test-databases.js';
import { register } from '../../server/src/test-helpers/test-devices.js';
import { firmwareApi } from '../../server/src/test-helpers/test-firmware.js';
import { startTestServer, type TestServer } from '../../server/src/test-helpers/test-server.js';
import { EXIT } from '../src/commands/exit-codes.js';
import { cuttingProxy } from '../src/test-helpers/device-https.js';
import {
  agent,
  requireBuiltCli,
  sleep,
  startAgent,
  writeAgentConfig,
  type RunningAgent,
} from './agent-run-helpers.js';

/**
 * `trustlink-agent run` installing an update the way a device does: the daemon as its own
 * process, its session, a TCP proxy in front of the platform that cuts the image download once,
 * and an image larger than the 64 MiB the agent once read into memory whole. The agent's peak
 * memory (VmHWM) is compared with that of an identical agent whose hardware attributes make it
 * refuse the manifest before any download: buffering would put at least the image's size between
 * them. Then an agent killed mid-download must resume from the bytes on disk when started again,
 * and a flipped byte in the served image must be refused and reported.
 */

const IMAGE_SIZE = 80 * 1024 * 1024;
const image = randomBytes(IMAGE_SIZE);
const sha = createHash('sha256').update(image).digest('hex');

/** Copies the image to the slot and checks it; notes where the agent said the image was. */
const INSTALL = `#!/bin/sh
set -e
echo "$TRUSTLINK_UPDATE_IMAGE" > "$1/image-path"
cp "$TRUSTLINK_UPDATE_IMAGE" "$1/slot-b"
echo "$TRUSTLINK_UPDATE_SHA256  $1/slot-b" | sha256sum -c --status
`;

/** Peak resident memory of a running process, in bytes. */
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kb) throw new Error(`no VmHWM for ${pid}`);
  return Number(kb) * 1024;
}

const root = mkdtempSync(path.join(tmpdir(), 'trustlink-agent-run-update-'));
beforeAll(() => requireBuiltCli());
afterAll(() => rmSync(root, { recursive: true, force: true }));

for (const dialect of TEST_DIALECTS) {
  describe(`trustlink-agent run streams and installs an update, platform on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let batchId: string;
    let proxy: Awaited<ReturnType<typeof cuttingProxy>>;
    const running: RunningAgent[] = [];

    beforeAll(async () => {
      // The flipped-byte case corrupts the stored file under the running server: the memory
      // cache of images (which would go on serving the bytes it checked) stays off here.
      server = await startTestServer(dialect, { env: { TRUSTLINK_FIRMWARE_CACHE_BYTES: '0' } });
      ({ admin } = await createTestUsers(server));
      const fa = firmwareApi(server, admin);
      batchId = await fa.batch(`Streamed updates ${dialect}`);
      const key = await fa.signingKey('Streamed updates', 'P-256');
      const fw = await fa.upload(
        'name=gateway&version=3.0.0&securityVersion=5&attr=board:tl-gw-2&attr=revision:c',
        image,
      );
      // Assigned before the devices enrol, so enrolment pins the batch's signing key.
      expect((await fa.assign(batchId, fw.id, key.id)).status).toBe(200);
      proxy = await cuttingProxy(
        { host: '127.0.0.1', port: Number(new URL(server.deviceUrl).port) },
        Math.floor(IMAGE_SIZE / 3),
      );
    }, 120_000);
    afterAll(async () => {
      for (const a of running) await a.stop().catch(() => undefined);
      await proxy?.close();
      await server?.close();
    });

    /** A manufactured device in the batch, talking to the platform through the proxy. */
    async function device(name: string, hardware: Record<string, string>) {
      const dir = path.join(root, `${dialect}-${name}`);
      const made = writeAgentConfig(dir, {
        platformUrl: `https://localhost:${proxy.port}`,
        rootPem: server.rootPem,
        keyStore: { type: 'file' },
        hardware,
        hooks: { install: [path.join(dir, 'install.sh'), dir], timeoutSeconds: 120 },
      });
      writeFileSync(path.join(dir, 'install.sh'), INSTALL);
      chmodSync(path.join(dir, 'install.sh'), 0o755);
      const id = agent(['manufacture', '--config', made.file]).stdout.trim();
      await register(server, admin, batchId, id);
      return { ...made, dir, id };
    }

    const rolloutRow = async (deviceId: string) =>
      (await firmwareApi(server, admin).rollout(batchId)).items.find(
        (i) => i.deviceId === deviceId,
      );

    it('fail/hardware attributes that are not a valid name stop the agent with exit 2', () => {
      const dir = path.join(root, `${dialect}-bad-hardware`);
      const made = writeAgentConfig(dir, {
        platformUrl: server.deviceUrl,
        rootPem: server.rootPem,
        keyStore: { type: 'file' },
        hardware: { 'board name': 'tl-gw-2' },
      });
      const r = agent(['run', '--once', '--config', made.file]);
      expect(r.code).toBe(EXIT.config);
      expect(r.stderr).toMatch(/hardware\.board name: is not a valid name/);
    });

    let baselinePeak = 0;
    it('fail/a device whose revision differs refuses the manifest and downloads nothing', async () => {
      const d = await device('revision-b', { board: 'tl-gw-2', revision: 'b' });
      const a = startAgent(d.file);
      running.push(a);
      await a.waitFor(/error update failed .*hardware-mismatch/, 90_000);
      baselinePeak = peakRss(a.child.pid!);
      await a.stop();
      expect(a.lines.some((l) => l.includes('image download'))).toBe(false);
      expect(await rolloutRow(d.id)).toMatchObject({
        status: 'failed',
        reason: 'manifest refused: hardware-mismatch: hardware attribute revision must be "c"',
      });
      expect(proxy.cuts()).toBe(0);
    }, 120_000);

    it('ok/a matching device streams 80 MiB through a cut link, resumes with Range, installs it byte for byte', async () => {
      const d = await device('revision-c', { board: 'tl-gw-2', revision: 'c', ram: '2G' });
      const a = startAgent(d.file);
      running.push(a);
      const resumed = await a.waitFor(/info resuming image download from=\d+/, 120_000);
      await a.waitFor(/info update installed/, 180_000);
      const peak = peakRss(a.child.pid!);
      await a.stop();

      // The link broke once, mid-image, and the download went on from the bytes on disk.
      expect(proxy.cuts()).toBe(1);
      const from = Number(/from=(\d+)/.exec(resumed)![1]);
      expect(from).toBeGreaterThan(0);
      expect(from).toBeLessThan(IMAGE_SIZE);
      expect(proxy.bytesToClient()).toBeLessThan(IMAGE_SIZE * 1.5);
      // The hook got a file in the agent's state directory, identical to the uploaded image.
      expect(readFileSync(path.join(d.dir, 'image-path'), 'utf8').trim()).toMatch(
        new RegExp(`^${d.stateDir}/update/[^/]+\\.img$`),
      );
      const slot = readFileSync(path.join(d.dir, 'slot-b'));
      expect(slot.length).toBe(IMAGE_SIZE);
      expect(createHash('sha256').update(slot).digest('hex')).toBe(sha);
      expect(await rolloutRow(d.id)).toMatchObject({ status: 'installed' });
      // Same program, same work except the download. Holding the image would add at least its
      // 80 MiB (twice that with the old read-whole-then-concatenate); streamed, what is added is
      // read buffers waiting for V8's next collection (it collects after ~64 MiB of them).
      expect(baselinePeak).toBeGreaterThan(0);
      expect(peak - baselinePeak).toBeLessThan(IMAGE_SIZE);
    }, 300_000);

    it('ok/an agent stopped mid-download resumes from the bytes on disk when it starts again', async () => {
      const d = await device('restarted', { board: 'tl-gw-2', revision: 'c' });
      const first = startAgent(d.file);
      running.push(first);
      // A power cut once some of the image is on disk.
      const updateDir = path.join(d.stateDir, 'update');
      const partial = () => {
        const img = existsSync(updateDir)
          ? readdirSync(updateDir).find((f) => f.endsWith('.img'))
          : undefined;
        return img ? statSync(path.join(updateDir, img)).size : 0;
      };
      for (let i = 0; i < 6000 && partial() < 1024 * 1024; i++) await sleep(10);
      first.child.kill('SIGKILL');
      await first.exited();
      const kept = partial();
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(IMAGE_SIZE);
      expect(first.lines.some((l) => l.includes('update installed'))).toBe(false);

      const second = startAgent(d.file);
      running.push(second);
      const resumed = await second.waitFor(/info resuming image download from=\d+/, 120_000);
      expect(Number(/from=(\d+)/.exec(resumed)![1])).toBe(kept);
      await second.waitFor(/info update installed/, 180_000);
      await second.stop();
      const slot = readFileSync(path.join(d.dir, 'slot-b'));
      expect(createHash('sha256').update(slot).digest('hex')).toBe(sha);
      expect(await rolloutRow(d.id)).toMatchObject({ status: 'installed' });
    }, 300_000);

    it('fail/a flipped byte in the image is refused after the streamed download and reported', async () => {
      const d = await device('flipped', { board: 'tl-gw-2', revision: 'c' });
      const blob = path.join(server.config.dataDir, 'firmware', server.runtime.instance.id, sha);
      const stored = readFileSync(blob);
      stored[IMAGE_SIZE - 12_345]! ^= 0x01;
      writeFileSync(blob, stored);
      const a = startAgent(d.file);
      running.push(a);
      try {
        await a.waitFor(/error update failed .*digest-mismatch/, 180_000);
      } finally {
        stored[IMAGE_SIZE - 12_345]! ^= 0x01;
        writeFileSync(blob, stored);
      }
      await a.stop();
      expect(await rolloutRow(d.id)).toMatchObject({
        status: 'failed',
        reason: 'image refused: digest-mismatch: image SHA-256 differs from the manifest',
      });
      expect(existsSync(path.join(d.dir, 'slot-b'))).toBe(false);
      // The refused image is not kept.
      const left = readdirSync(path.join(d.stateDir, 'update')).filter((f) => f.endsWith('.img'));
      expect(left).toEqual([]);
    }, 300_000);
  });
}
