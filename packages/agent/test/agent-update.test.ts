import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EnrolResponse, StatusResponse } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers, type TestPrincipal } from '../../server/src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../../server/src/test-helpers/test-databases.js';
import {
  devicePost,
  enrolBody,
  register,
  testDevice,
  tlsAs,
} from '../../server/src/test-helpers/test-devices.js';
import { firmwareApi } from '../../server/src/test-helpers/test-firmware.js';
import { toPem } from '../../server/src/pki/certificate-builder.js';
import { startTestServer, type TestServer } from '../../server/src/test-helpers/test-server.js';
import { parseAgentConfig } from '../src/config/agent-config.js';
import { cuttingProxy, tlsDeviceRequest } from '../src/test-helpers/device-https.js';
import { fetchImageVia } from '../src/update/image-fetch.js';
import { AgentUpdateHandler } from '../src/update/update-handler.js';
import { readUpdateState } from '../src/update/update-state.js';
import type {
  DeviceApiRequest,
  UpdateContext,
  UpdateDeviceFacts,
  UpdateLogger,
} from '../src/update/update-types.js';

/**
 * The agent's install side against a real server: the device enrols (bootstrap certificate,
 * signing key pinned from the enrolment answer), hears of the update at check-in, and the
 * handler does the rest through a proxy that cuts the first image download mid-body. The hooks
 * are real scripts doing an A/B install into two slot files; a "reboot" switches the slot and
 * the boot id, after which the confirm hook commits the security version.
 */

const HOOKS = {
  install: `#!/bin/sh
# Writes the verified image to the slot that is not running, and checks it landed intact.
set -e
slots="$1"
active=$(cat "$slots/active")
if [ "$active" = a ]; then inactive=b; else inactive=a; fi
cp "$TRUSTLINK_UPDATE_IMAGE" "$slots/slot-$inactive"
echo "$TRUSTLINK_UPDATE_SHA256  $slots/slot-$inactive" | sha256sum -c --status
echo "$inactive" > "$slots/installed"
env | grep '^TRUSTLINK_' | sort > "$slots/install-env"
`,
  activate: `#!/bin/sh
# Tells the boot loader to try the new slot once (the test's "reboot" reads next-boot).
set -e
cp "$1/installed" "$1/next-boot"
`,
  confirm: `#!/bin/sh
# After the reboot: the running slot must hold the new image; then it is marked good.
slots="$1"
active=$(cat "$slots/active")
if ! echo "$TRUSTLINK_UPDATE_SHA256  $slots/slot-$active" | sha256sum -c --status; then
  echo "running slot $active does not hold version $TRUSTLINK_UPDATE_VERSION" >&2
  exit 3
fi
echo "$active" > "$slots/confirmed"
`,
};

interface Agent {
  dir: string;
  slots: string;
  bootId: number;
  facts: UpdateDeviceFacts;
  logs: { level: string; message: string; fields?: Record<string, unknown> }[];
  request: DeviceApiRequest;
  ctx: UpdateContext;
  handler: AgentUpdateHandler;
  /** Switches to the slot the activate hook chose, as the boot loader would, with a new boot id. */
  reboot(): void;
}

for (const dialect of TEST_DIALECTS) {
  describe(`agent update handler against a server on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let fa: ReturnType<typeof firmwareApi>;
    let batchId: string;
    let keyId: string;
    let firmwareId: string;
    let proxy: Awaited<ReturnType<typeof cuttingProxy>>;
    const image = randomBytes(1_500_000);
    const sha = createHash('sha256').update(image).digest('hex');
    const tmp: string[] = [];
    const agents: Agent[] = [];

    /** A device that enrolled for real, with an agent state directory and hooks. */
    async function enrolledAgent(
      opts: {
        hardware?: Record<string, string>;
        via?: 'proxy' | 'direct';
        tamper?: (req: DeviceApiRequest) => DeviceApiRequest;
      } = {},
    ): Promise<Agent> {
      const d = await testDevice('P-256');
      await register(server, admin, batchId, d.deviceId);
      const enrolled = await devicePost(server, '/device/v1/enrol', enrolBody(d), tlsAs(d));
      expect(enrolled.status, enrolled.text).toBe(200);
      const e = enrolled.json<EnrolResponse>();
      expect(e.signing).toMatchObject({ keyId, alg: 'ES256' });
      const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-agent-update-'));
      tmp.push(dir);
      const slots = path.join(dir, 'slots');
      const hooksDir = path.join(dir, 'hooks');
      mkdirSync(slots);
      mkdirSync(hooksDir);
      writeFileSync(path.join(slots, 'active'), 'a\n');
      writeFileSync(path.join(slots, 'slot-a'), 'the image running before the update');
      for (const [name, script] of Object.entries(HOOKS)) {
        writeFileSync(path.join(hooksDir, `${name}.sh`), script);
        chmodSync(path.join(hooksDir, `${name}.sh`), 0o755);
      }
      const deviceUrl = new URL(server.deviceUrl);
      const port = opts.via === 'direct' ? Number(deviceUrl.port) : proxy.port;
      const base = tlsDeviceRequest({
        host: '127.0.0.1',
        port,
        ca: server.rootPem,
        cert: toPem(Buffer.from(e.certificate, 'base64url')),
        key: d.keyPem,
      });
      const request = opts.tamper ? opts.tamper(base) : base;
      const config = parseAgentConfig(
        {
          platformUrl: server.deviceUrl.replace(/\/$/, ''),
          rootCaFile: path.join(dir, 'root.pem'),
          stateDir: path.join(dir, 'state'),
          keyStore: { type: 'file' },
          hooks: {
            install: [path.join(hooksDir, 'install.sh'), slots],
            activate: [path.join(hooksDir, 'activate.sh'), slots],
            confirm: [path.join(hooksDir, 'confirm.sh'), slots],
            timeoutSeconds: 60,
          },
        },
        path.join(dir, 'agent.json'),
      );
      const agent: Agent = {
        dir,
        slots,
        bootId: 1,
        logs: [],
        request,
        facts: {
          instanceId: e.instanceId,
          deviceId: d.deviceId,
          ...(e.batchId !== undefined ? { batchId: e.batchId } : {}),
          hardware: opts.hardware ?? { board: 'tl-gw-2', ram: '2G' },
          signing: e.signing!,
        },
        ctx: undefined as unknown as UpdateContext,
        handler: undefined as unknown as AgentUpdateHandler,
        reboot() {
          const next = path.join(slots, 'next-boot');
          if (existsSync(next)) {
            writeFileSync(path.join(slots, 'active'), readFileSync(next));
            rmSync(next);
          }
          agent.bootId++;
        },
      };
      const log =
        (level: string): UpdateLogger['info'] =>
        (message, fields) =>
          agent.logs.push({ level, message, ...(fields ? { fields } : {}) });
      agent.ctx = {
        request,
        fetchImage: fetchImageVia(request),
        stateDir: config.stateDir,
        config,
        logger: { info: log('info'), warn: log('warn'), error: log('error') },
      };
      agent.handler = new AgentUpdateHandler({
        device: () => agent.facts,
        bootId: () => `boot-${agent.bootId}`,
        backoffMs: () => 50,
      });
      agents.push(agent);
      return agent;
    }

    /** The update the check-in announces to this agent. */
    async function checkIn(a: Agent): Promise<StatusResponse['update']> {
      const res = await a.request('GET', '/device/v1/status');
      expect(res.status).toBe(200);
      return ((await res.json()) as StatusResponse).update;
    }

    const deviceRow = async (deviceId: string) =>
      (await fa.rollout(batchId)).items.find((i) => i.deviceId === deviceId)!;

    beforeAll(async () => {
      // Images are read from the store on every download (no copy held in memory), so the
      // flipped-byte test below can corrupt the stored file under a running server.
      server = await startTestServer(dialect, { env: { TRUSTLINK_FIRMWARE_CACHE_BYTES: '0' } });
      ({ admin } = await createTestUsers(server));
      fa = firmwareApi(server, admin);
      batchId = await fa.batch('Agents');
      keyId = (await fa.signingKey('Agent release', 'P-256')).id;
      const fw = await fa.upload(
        'name=gateway&version=2.5.0&securityVersion=8&attr=board:tl-gw-2',
        image,
      );
      firmwareId = fw.id;
      const deviceUrl = new URL(server.deviceUrl);
      // Cut the first connection that carries more than a third of the image.
      proxy = await cuttingProxy(
        { host: '127.0.0.1', port: Number(deviceUrl.port) },
        Math.floor(image.length / 3),
      );
      // Assign before the devices enrol, so their enrolment answer pins the batch's key.
      const dummy = await testDevice('P-256');
      await register(server, admin, batchId, dummy.deviceId);
      expect((await fa.assign(batchId, firmwareId, keyId)).status).toBe(200);
    });
    afterAll(async () => {
      await proxy?.close();
      await server?.close();
      for (const d of tmp) rmSync(d, { recursive: true, force: true });
    });

    it('ok/A/B: downloads through a cut connection, installs, confirms after the reboot, reports installed', async () => {
      const a = await enrolledAgent();
      const update = await checkIn(a);
      expect(update).toBeDefined();
      await a.handler.handle(update!, a.ctx);

      // The cut happened and the download resumed from where it stopped, not from zero.
      expect(proxy.cuts()).toBe(1);
      const resumed = a.logs.find((l) => l.message === 'resuming image download');
      expect(resumed?.fields?.from).toBeGreaterThan(0);
      expect(proxy.bytesToClient()).toBeLessThan(image.length * 1.5);
      // Installed into slot b and activated, but not yet confirmed: no reboot happened.
      expect(readFileSync(path.join(a.slots, 'slot-b')).equals(image)).toBe(true);
      expect(readFileSync(path.join(a.slots, 'next-boot'), 'utf8').trim()).toBe('b');
      const env = readFileSync(path.join(a.slots, 'install-env'), 'utf8');
      expect(env).toContain(`TRUSTLINK_UPDATE_SHA256=${sha}`);
      expect(env).toContain('TRUSTLINK_UPDATE_SECURITY_VERSION=8');
      expect(env).toContain('TRUSTLINK_UPDATE_STEP=install');
      expect(await deviceRow(a.facts.deviceId)).toMatchObject({ status: 'installing' });
      expect(readUpdateState(a.ctx.stateDir)).toMatchObject({
        securityVersion: 0,
        current: { phase: 'activating' },
      });

      // The next check-in before the reboot changes nothing.
      await a.handler.handle((await checkIn(a))!, a.ctx);
      expect(existsSync(path.join(a.slots, 'confirmed'))).toBe(false);

      a.reboot();
      await a.handler.handle((await checkIn(a))!, a.ctx);
      expect(readFileSync(path.join(a.slots, 'confirmed'), 'utf8').trim()).toBe('b');
      const state = readUpdateState(a.ctx.stateDir);
      expect(state.securityVersion).toBe(8);
      expect(state.current).toBeUndefined();
      expect(state.finished[update!.id]).toMatchObject({ status: 'installed', reported: true });
      // The image and manifest copies are gone; only the state remains.
      expect(existsSync(path.join(a.ctx.stateDir, 'update', `${update!.id}.img`))).toBe(false);

      const row = await deviceRow(a.facts.deviceId);
      expect(row).toMatchObject({ status: 'installed' });
      expect(row.downloadingAt).not.toBeNull();
      expect(row.installingAt).not.toBeNull();
      expect(row.installedAt).not.toBeNull();
      // The platform no longer announces it; a repeated announcement is a no-op.
      expect(await checkIn(a)).toBeUndefined();
      await a.handler.handle(update!, a.ctx);
      expect(readUpdateState(a.ctx.stateDir).finished[update!.id]?.status).toBe('installed');
    });

    it('ok/a platform that cannot be reached is retried at the next announcement', async () => {
      let down = true;
      const a = await enrolledAgent({
        via: 'direct',
        tamper: (req) => async (method, p, init) => {
          if (down && p.endsWith('/manifest')) throw new Error('connect ECONNREFUSED');
          return req(method, p, init);
        },
      });
      const update = (await checkIn(a))!;
      await expect(a.handler.handle(update, a.ctx)).resolves.toBeUndefined();
      expect(a.logs.some((l) => l.message.startsWith('update step interrupted'))).toBe(true);
      // Nothing reached the update routes: the device has not even joined the rollout yet.
      const rows = (await fa.rollout(batchId)).items;
      expect(rows.find((i) => i.deviceId === a.facts.deviceId)).toBeUndefined();
      down = false;
      await a.handler.handle(update, a.ctx);
      a.reboot();
      await a.handler.handle(update, a.ctx);
      expect(await deviceRow(a.facts.deviceId)).toMatchObject({ status: 'installed' });
      expect(readUpdateState(a.ctx.stateDir).securityVersion).toBe(8);
    });

    it('fail/a confirm hook that fails leaves the security version where it was', async () => {
      const a = await enrolledAgent({ via: 'direct' });
      const update = (await checkIn(a))!;
      await a.handler.handle(update, a.ctx);
      // The "boot loader" did not switch: the device came back on slot a.
      rmSync(path.join(a.slots, 'next-boot'));
      a.reboot();
      await a.handler.handle(update, a.ctx);
      expect(readUpdateState(a.ctx.stateDir).securityVersion).toBe(0);
      const row = await deviceRow(a.facts.deviceId);
      expect(row.status).toBe('failed');
      expect(row.reason).toMatch(/^not confirmed: confirm hook failed \(exit 3\): running slot a/);
    });

    it('fail/a flipped byte in the manifest is refused and reported', async () => {
      const a = await enrolledAgent({
        via: 'direct',
        tamper: (req) => async (method, p, init) => {
          const res = await req(method, p, init);
          if (!p.endsWith('/manifest')) return res;
          const [h, payload, s] = (await res.text()).trim().split('.') as [string, string, string];
          const bytes = Buffer.from(payload, 'base64url');
          const at = bytes.indexOf('"version":"2.5.0"') + 12;
          bytes[at] = '3'.charCodeAt(0);
          return new Response(`${h}.${bytes.toString('base64url')}.${s}`, {
            status: res.status,
            headers: res.headers,
          });
        },
      });
      const update = (await checkIn(a))!;
      await a.handler.handle(update, a.ctx);
      const row = await deviceRow(a.facts.deviceId);
      expect(row.status).toBe('failed');
      expect(row.reason).toMatch(/^manifest refused: bad-signature/);
      expect(existsSync(path.join(a.slots, 'installed'))).toBe(false);
    });

    it('fail/rollback and hardware mismatch are refused before any download', async () => {
      const rollback = await enrolledAgent({ via: 'direct' });
      const stateDir = rollback.ctx.stateDir;
      mkdirSync(path.join(stateDir, 'update'), { recursive: true });
      writeFileSync(
        path.join(stateDir, 'update', 'update-state.json'),
        JSON.stringify({ version: 1, securityVersion: 9, finished: {} }),
      );
      await rollback.handler.handle((await checkIn(rollback))!, rollback.ctx);
      expect((await deviceRow(rollback.facts.deviceId)).reason).toBe(
        'manifest refused: rollback: securityVersion 8 is below the installed 9',
      );
      const other = await enrolledAgent({ via: 'direct', hardware: { board: 'tl-gw-1' } });
      await other.handler.handle((await checkIn(other))!, other.ctx);
      expect((await deviceRow(other.facts.deviceId)).reason).toBe(
        'manifest refused: hardware-mismatch: hardware attribute board must be "tl-gw-2"',
      );
      for (const a of [rollback, other]) {
        expect(a.logs.some((l) => l.message === 'resuming image download')).toBe(false);
        expect(existsSync(path.join(a.slots, 'installed'))).toBe(false);
      }
    });

    it('fail/a flipped byte in the stored image is refused after download and reported', async () => {
      const a = await enrolledAgent({ via: 'direct' });
      const blob = path.join(server.config.dataDir, 'firmware', server.runtime.instance.id, sha);
      const stored = readFileSync(blob);
      stored[123_456]! ^= 0x01;
      writeFileSync(blob, stored);
      try {
        await a.handler.handle((await checkIn(a))!, a.ctx);
      } finally {
        stored[123_456]! ^= 0x01;
        writeFileSync(blob, stored);
      }
      const row = await deviceRow(a.facts.deviceId);
      expect(row.status).toBe('failed');
      expect(row.reason).toBe(
        'image refused: digest-mismatch: image SHA-256 differs from the manifest',
      );
      expect(existsSync(path.join(a.slots, 'installed'))).toBe(false);
      expect(readUpdateState(a.ctx.stateDir).securityVersion).toBe(0);
    });

    it('ok/a resumed request answered 200 (the server no longer matches If-Range) starts the file over', async () => {
      let phase: 'cut' | 'stale' | 'plain' = 'cut';
      const imageRequests: Record<string, string>[] = [];
      const a = await enrolledAgent({
        via: 'direct',
        tamper: (req) => async (method, p, init) => {
          if (!p.endsWith('/image')) return req(method, p, init);
          imageRequests.push({ ...init?.headers });
          if (phase === 'stale' && init?.headers?.['if-range']) {
            // What a server does when the image changed since the bytes on disk: the whole image.
            phase = 'plain';
            return req(method, p, { ...init, headers: { ...init.headers, 'if-range': '"0"' } });
          }
          const res = await req(method, p, init);
          if (phase !== 'cut') return res;
          phase = 'stale';
          // The link drops after some 500 kB of the first answer.
          const reader = res.body!.getReader();
          let passed = 0;
          const body = new ReadableStream<Uint8Array>({
            async pull(ctrl) {
              if (passed >= 500_000) {
                await reader.cancel();
                ctrl.error(new Error('link lost'));
                return;
              }
              const { done, value } = await reader.read();
              if (done) return ctrl.close();
              passed += value.length;
              ctrl.enqueue(value);
            },
          });
          return new Response(body, { status: res.status, headers: res.headers });
        },
      });
      const update = (await checkIn(a))!;
      await a.handler.handle(update, a.ctx);
      const from = a.logs.find((l) => l.message === 'resuming image download')?.fields?.from;
      expect(from).toBeGreaterThan(0);
      expect(imageRequests[1]).toMatchObject({ range: `bytes=${from}-` });
      expect(
        a.logs.find((l) => l.message.startsWith('the server sent the whole image'))?.fields,
      ).toEqual({ had: from });
      // Appended, the 200's bytes would have made the file longer than the manifest and
      // failed; started over, the installed image is the uploaded one byte for byte.
      expect(readFileSync(path.join(a.slots, 'slot-b')).equals(image)).toBe(true);
      a.reboot();
      await a.handler.handle(update, a.ctx);
      expect(await deviceRow(a.facts.deviceId)).toMatchObject({ status: 'installed' });
    });

    it('ok/the rollout shows each agent as it reported', async () => {
      const r = await fa.rollout(batchId);
      expect(r.counts).toMatchObject({ installed: 3, failed: 5, pending: 1 });
      expect(agents).toHaveLength(8);
    });
  });
}
