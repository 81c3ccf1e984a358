import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers } from '../src/test-helpers/test-auth.js';
import { localEnv, runCli } from '../src/test-helpers/test-cli.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  createPolicyAndBatch,
  devicePost,
  enrolBody,
  register,
  testDevice,
  tlsAs,
} from '../src/test-helpers/test-devices.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

for (const dialect of TEST_DIALECTS) {
  describe(`trustlink device commands on ${dialect}`, () => {
    let server: TestServer;
    let remote: Record<string, string>;
    let ids: string[];

    beforeAll(async () => {
      server = await startTestServer(dialect);
      const { admin, contributor } = await createTestUsers(server);
      writeFileSync(path.join(server.home, 'root.pem'), server.rootPem);
      remote = {
        TRUSTLINK_SERVER: server.managementUrl.replace('localhost', '127.0.0.1'),
        TRUSTLINK_TOKEN: contributor.token,
        TRUSTLINK_CA: path.join(server.home, 'root.pem'),
      };
      const { batchId } = await createPolicyAndBatch(server, admin, 'CLI devices');
      ids = [];
      for (let i = 0; i < 2; i++) {
        const d = await testDevice();
        await register(server, admin, batchId, d.deviceId);
        const r = await devicePost(server, '/device/v1/enrol', enrolBody(d), tlsAs(d));
        expect(r.status).toBe(200);
        ids.push(d.deviceId);
      }
    });
    afterAll(async () => server?.close());

    it('ok/show and revoke against a remote server', async () => {
      const show = await runCli(['device', 'show', ids[0]!], remote);
      expect(show.code, show.stderr).toBe(0);
      expect(show.stdout).toMatch(new RegExp(`device:\\s+${ids[0]}`));
      expect(show.stdout).toMatch(/state:\s+enrolled/);
      expect(show.stdout).toMatch(/batch:\s+CLI devices/);
      expect(show.stdout).toMatch(
        /SERIAL\s+STATUS\s+NOT AFTER\s+CURRENT\n[0-9a-f]+\s+valid\s+\S+\s+yes/,
      );
      const rv = await runCli(['device', 'revoke', ids[0]!, '--reason', 'keyCompromise'], remote);
      expect(rv.code, rv.stderr).toBe(0);
      expect(rv.stdout).toBe(`revoked ${ids[0]} (keyCompromise); 1 certificates revoked\n`);
      const json = await runCli(['device', 'show', ids[0]!, '--json'], remote);
      expect(JSON.parse(json.stdout)).toMatchObject({
        state: 'revoked',
        revocationReason: 'keyCompromise',
      });
      const again = await runCli(
        ['device', 'revoke', ids[0]!, '--reason', 'keyCompromise'],
        remote,
      );
      expect(again.code).not.toBe(0);
      expect(again.stderr).toMatch(/already revoked/);
    });

    it('ok/revoke on the local data directory; a bad reason is refused before anything is done', async () => {
      const bad = await runCli(
        ['device', 'revoke', ids[1]!, '--reason', 'stolen'],
        localEnv(server),
      );
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/--reason: "stolen" is not one of unspecified, keyCompromise/);
      const rv = await runCli(
        ['device', 'revoke', ids[1]!, '--reason', 'superseded'],
        localEnv(server),
      );
      expect(rv.code, rv.stderr).toBe(0);
      const show = await runCli(['device', 'show', ids[1]!], localEnv(server));
      expect(show.stdout).toMatch(/revoked:\s+\S+ \(superseded\)/);
      const [entry] = (await server.runtime.audit.recent(server.runtime.instance.id, 10)).filter(
        (e) => e.action === 'device.revoke',
      );
      expect(entry?.actor).toMatchObject({ type: 'system', name: expect.stringMatching(/^cli:/) });
      const missing = await runCli(['device', 'show', '0'.repeat(64)], localEnv(server));
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toMatch(/not found/);
    });
  });
}
