import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers } from '../src/test-helpers/test-auth.js';
import { localEnv, runCli } from '../src/test-helpers/test-cli.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { deviceIds } from '../src/test-helpers/test-fleet.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

for (const dialect of TEST_DIALECTS) {
  describe(`trustlink policy, batch and enrolment-token commands on ${dialect}`, () => {
    let server: TestServer;
    let remote: Record<string, string>;
    beforeAll(async () => {
      server = await startTestServer(dialect);
      const { admin } = await createTestUsers(server);
      writeFileSync(path.join(server.home, 'root.pem'), server.rootPem);
      remote = {
        TRUSTLINK_SERVER: server.managementUrl.replace('localhost', '127.0.0.1'),
        TRUSTLINK_TOKEN: admin.token,
        TRUSTLINK_CA: path.join(server.home, 'root.pem'),
      };
    });
    afterAll(async () => server?.close());

    it('ok/a production line script: policy, batch, upload with progress, token (remote)', async () => {
      const policyFile = path.join(server.home, 'policy.json');
      writeFileSync(
        policyFile,
        JSON.stringify({
          name: 'CLI line',
          connectionType: 'iot-hub',
          deviceCertificate: { lifetime: { value: 1, unit: 'years' } },
          issuingCertificate: { lifetime: { value: 3, unit: 'years' } },
        }),
      );
      const p = await runCli(['policy', 'create', '--file', policyFile], remote);
      expect(p.stderr).toBe('');
      expect(p.code).toBe(0);
      const b = await runCli(
        ['batch', 'create', '--name', 'CLI batch', '--policy', 'CLI line'],
        remote,
      );
      expect(b.code).toBe(0);
      const list = path.join(server.home, 'devices.json');
      writeFileSync(list, JSON.stringify({ devices: deviceIds(500) }, null, 1));
      const up = await runCli(['batch', 'upload', 'CLI batch', list], remote);
      expect(up.code).toBe(0);
      expect(up.stdout).toBe('added 500, already in batch 0\n');
      expect(up.stderr).toMatch(
        /devices.json: 500 entries\nsending 500 device IDs to batch "CLI batch" \.\.\.\ndone in/,
      );
      const t = await runCli(
        [
          'enrolment-token',
          'create',
          '--name',
          'CLI token',
          '--batch',
          'CLI batch',
          '--days',
          '30',
        ],
        remote,
      );
      expect(t.code).toBe(0);
      expect(t.stdout).toMatch(/^[0-9a-f]{32}\n$/);
      const ls = await runCli(['batch', 'list'], remote);
      expect(ls.stdout).toMatch(/CLI batch\s+500\s+0\s+0\s+0\s+CLI line/);
    });

    it('fail/a bad device list names the lines of the file and sends nothing (local)', async () => {
      const ids = deviceIds(3);
      const list = path.join(server.home, 'bad.json');
      writeFileSync(
        list,
        `{"devices": [\n  "${ids[0]}",\n  "xyz",\n  "${ids[1]}",\n  "${ids[0]}"\n]}\n`,
      );
      const up = await runCli(['batch', 'upload', 'CLI batch', list], localEnv(server));
      expect(up.code).not.toBe(0);
      expect(up.stderr).toContain(`bad.json:3: entry 2 "xyz": not hexadecimal`);
      expect(up.stderr).toContain(`bad.json:5: entry 4 "${ids[0]}": duplicate of entry 1`);
      expect(up.stderr).toMatch(/2 of 4 entries are not device IDs; nothing was sent/);
      const ls = await runCli(['batch', 'list', '--json'], localEnv(server));
      expect(JSON.parse(ls.stdout)[0].counts.devices).toBe(500);
    });

    it('fail/unknown batch and bad policy file', async () => {
      const r = await runCli(['batch', 'add-device', 'nope', deviceIds(1)[0]!], remote);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/no batch with id or name "nope"/);
      const f = path.join(server.home, 'p2.json');
      writeFileSync(f, JSON.stringify({ name: 'x', connectionType: 'carrier-pigeon' }));
      const p = await runCli(['policy', 'create', '--file', f], remote);
      expect(p.code).not.toBe(0);
      expect(p.stderr).toMatch(/p2.json: connectionType: /);
    });
  });
}
