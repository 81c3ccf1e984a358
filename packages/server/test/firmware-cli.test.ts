import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Firmware, Rollout } from '../src/firmware/firmware-types.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { localEnv, runCli } from '../src/test-helpers/test-cli.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { deviceIds } from '../src/test-helpers/test-fleet.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const dialect of TEST_DIALECTS) {
  describe(`trustlink firmware commands on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    let remote: Record<string, string>;
    const bin = randomBytes(200_000);

    beforeAll(async () => {
      server = await startTestServer(dialect);
      ({ admin, contributor } = await createTestUsers(server));
      writeFileSync(path.join(server.home, 'root.pem'), server.rootPem);
      remote = {
        TRUSTLINK_SERVER: server.managementUrl.replace('localhost', '127.0.0.1'),
        TRUSTLINK_TOKEN: admin.token,
        TRUSTLINK_CA: path.join(server.home, 'root.pem'),
      };
      const policy = await server.request('POST', '/api/v1/policies', {
        headers: admin.headers,
        body: {
          name: 'CI',
          connectionType: 'iot-hub',
          deviceCertificate: { lifetime: { value: 1, unit: 'years' } },
          issuingCertificate: { lifetime: { value: 2, unit: 'years' } },
        },
      });
      const batch = await server.request('POST', '/api/v1/batches', {
        headers: admin.headers,
        body: { name: 'Field units', policyId: policy.json<{ id: string }>().id },
      });
      await server.request(
        'POST',
        `/api/v1/batches/${batch.json<{ id: string }>().id}/devices/upload`,
        {
          headers: admin.headers,
          body: { devices: deviceIds(3) },
        },
      );
      const key = await server.request('POST', '/api/v1/pki/signing-keys', {
        headers: admin.headers,
        body: { name: 'CI key', algorithm: 'P-256' },
      });
      expect(key.status).toBe(201);
    });
    afterAll(async () => server?.close());

    // A CI pipeline in steps (remote): each command is its own process, slow on a busy machine.
    let id: string;
    it('ok/pipeline: upload a binary (remote)', async () => {
      const binFile = path.join(server.home, 'app.bin');
      writeFileSync(binFile, bin);
      const up = await runCli(
        [
          ...['firmware', 'upload', binFile, '--name', 'App 1.0', '--version', '1.0.0'],
          ...['--security-version', '2', '--attr', 'board=tl-sn-1', '--attr', 'soc:esp32c3'],
        ],
        remote,
      );
      expect(up.stderr).toMatch(
        /uploading app\.bin \(195\.3 KiB, binary\) as "App 1\.0" \.\.\.\nstored 195\.3 KiB, SHA-256 [0-9a-f]{64}\n/,
      );
      expect(up.code).toBe(0);
      id = up.stdout.trim();
      const fw = (
        await server.request('GET', `/api/v1/firmware/${id}`, { headers: admin.headers })
      ).json<Firmware>();
      expect(fw).toMatchObject({
        sha256: sha256(bin),
        securityVersion: 2,
        input: 'binary',
        attributes: [
          { name: 'board', value: 'tl-sn-1' },
          { name: 'soc', value: 'esp32c3' },
        ],
      });
    });

    it('ok/pipeline: upload an Intel HEX, stored as the same binary (remote)', async () => {
      const binFile = path.join(server.home, 'app.bin');
      execFileSync('objcopy', [
        '-I',
        'binary',
        '-O',
        'ihex',
        binFile,
        path.join(server.home, 'app.hex'),
      ]);
      const hex = await runCli(
        [
          'firmware',
          'upload',
          path.join(server.home, 'app.hex'),
          '--name',
          'App hex',
          '--version',
          '1.0.0',
        ],
        remote,
      );
      expect(hex.code, hex.stderr).toBe(0);
      expect(hex.stderr).toMatch(/intel-hex/);
      const hexFw = (
        await server.request('GET', `/api/v1/firmware/${hex.stdout.trim()}`, {
          headers: admin.headers,
        })
      ).json<Firmware>();
      expect(hexFw.sha256).toBe(sha256(bin));
    });

    it('ok/pipeline: list with an attribute filter (remote)', async () => {
      const ls = await runCli(['firmware', 'list', '--attr', 'board=tl-sn-1'], remote);
      expect(ls.code).toBe(0);
      expect(ls.stdout).toMatch(/^NAME\s+VERSION\s+SECURITY\s+FORMAT/);
      expect(ls.stdout).toMatch(/App 1\.0\s+1\.0\.0\s+2\s+raw\s+195\.3 KiB/);
      expect(ls.stdout).not.toMatch(/App hex/);
    });

    // Several CLI processes, each compiling through tsx: slow on a loaded machine.
    it('ok/pipeline: assign, see the rollout and the signing key (remote)', async () => {
      const as = await runCli(
        ['firmware', 'assign', 'App 1.0', '--batch', 'Field units', '--key', 'CI key'],
        remote,
      );
      expect(as.stderr).toMatch(
        /"App 1\.0" 1\.0\.0 signed with "CI key" and assigned to batch "Field units"/,
      );
      expect(as.code).toBe(0);
      expect(as.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
      const ro = await runCli(['firmware', 'rollout', 'Field units'], remote);
      expect(ro.stdout).toMatch(/^App 1\.0 1\.0\.0: 0\/3 installed, 3 pending/);

      const signed = await runCli(['firmware', 'list', '--json'], remote);
      const listed = JSON.parse(signed.stdout) as Firmware[];
      expect(listed.find((f) => f.id === id)?.signatures).toMatchObject([
        { keyName: 'CI key', kind: 'manifest' },
      ]);
    }, 180_000);

    // Several CLI processes, each compiling through tsx: slow on a loaded machine.
    it('ok/a large upload shows progress on stderr only; status prints the rollout (remote)', async () => {
      const big = path.join(server.home, 'big.bin');
      const data = randomBytes(6 * 1024 * 1024 + 5);
      writeFileSync(big, data);
      const up = await runCli(
        ['firmware', 'upload', big, '--name', 'Big', '--version', '1'],
        remote,
      );
      expect(up.code, up.stderr).toBe(0);
      // Not a terminal here: one line per quarter, never a redrawn bar, and stdout is the id.
      const lines = up.stderr.split('\n').filter((l) => l.startsWith('uploaded '));
      expect(lines.map((l) => /^uploaded (\d+)%/.exec(l)?.[1])).toEqual(['25', '50', '75', '100']);
      expect(lines.at(-1)).toMatch(/6\.0\/6\.0 MiB/);
      expect(up.stderr).not.toMatch(/\r/);
      expect(up.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
      const st = await runCli(['firmware', 'status', 'Field units'], remote);
      expect(st.code, st.stderr).toBe(0);
      expect(st.stdout).toMatch(/^App 1\.0 1\.0\.0: 0\/3 installed, 3 pending/);
      expect(st.stdout).toMatch(/DEVICE\s+STATUS\s+SINCE\s+REASON/);
    }, 180_000);

    it('ok/the same work in local mode, on the data directory', async () => {
      const hexFile = path.join(server.home, 'local.hex');
      const data = randomBytes(1000);
      writeFileSync(path.join(server.home, 'local.bin'), data);
      execFileSync('objcopy', [
        ...['-I', 'binary', '-O', 'ihex', '--change-addresses', '0x08000000'],
        ...[path.join(server.home, 'local.bin'), hexFile],
      ]);
      const up = await runCli(
        ['firmware', 'upload', hexFile, '--name', 'Local', '--version', '7'],
        localEnv(server),
      );
      expect(up.code, up.stderr).toBe(0);
      const fw = (
        await server.request('GET', `/api/v1/firmware/${up.stdout.trim()}`, {
          headers: admin.headers,
        })
      ).json<Firmware>();
      expect(fw).toMatchObject({
        sha256: sha256(data),
        baseAddress: 0x08000000,
        createdBy: expect.stringMatching(/^cli:/),
      });
      const as = await runCli(
        ['firmware', 'assign', 'Local', '--batch', 'Field units', '--key', 'CI key'],
        localEnv(server),
      );
      expect(as.code, as.stderr).toBe(0);
      const ro = await runCli(['firmware', 'rollout', 'Field units', '--json'], localEnv(server));
      expect(JSON.parse(ro.stdout) as Rollout).toMatchObject({
        update: { firmwareName: 'Local' },
        counts: { total: 3 },
      });
    });

    const badHex = () => {
      const bad = path.join(server.home, 'bad.hex');
      writeFileSync(bad, ':10000000000102030405060708090A0B0C0D0E0F00\n:00000001FF\n');
      return bad;
    };
    const names = async () =>
      (await server.request('GET', '/api/v1/firmware', { headers: admin.headers }))
        .json<{ items: Firmware[] }>()
        .items.map((f) => f.name);

    it('fail/a bad HEX record is named by its line and nothing is stored', async () => {
      const r = await runCli(
        ['firmware', 'upload', badHex(), '--name', 'Bad', '--version', '1'],
        remote,
      );
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/400 Intel HEX line 1: .*checksum/);
      expect(await names()).not.toContain('Bad');
    });

    it('fail/a contributor token cannot upload', async () => {
      const c = await runCli(['firmware', 'upload', badHex(), '--name', 'Bad', '--version', '1'], {
        ...remote,
        TRUSTLINK_TOKEN: contributor.token,
      });
      expect(c.code).not.toBe(0);
      expect(c.stderr).toMatch(/403/);
      expect(await names()).not.toContain('Bad');
    });

    it('fail/an unknown signing key is named', async () => {
      const noKey = await runCli(
        ['firmware', 'assign', 'App 1.0', '--batch', 'Field units', '--key', 'nope'],
        remote,
      );
      expect(noKey.code).not.toBe(0);
      expect(noKey.stderr).toMatch(/no signing key with id or name "nope"/);
    });
  });
}
