import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { makeCsr } from '../src/test-helpers/test-csr.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { testDevice, tlsAs } from '../src/test-helpers/test-devices.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const DOC = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../docs/enrolment.md',
);

/** The ```sh blocks of docs/enrolment.md between `<!-- name:start -->` and `<!-- name:end -->`. */
function walkthrough(name: string): string {
  const text = readFileSync(DOC, 'utf8');
  const start = text.indexOf(`<!-- ${name}:start -->`);
  const end = text.indexOf(`<!-- ${name}:end -->`);
  if (start < 0 || end < start) throw new Error(`docs/enrolment.md has no ${name}`);
  return [...text.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

/**
 * EST with nothing of ours on the device side: the documented walkthrough, run as written by
 * bash with real curl and openssl processes against the server's real ports.
 */
for (const dialect of TEST_DIALECTS) {
  describe(`EST with curl and openssl on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let dir: string;

    beforeAll(async () => {
      server = await startTestServer(dialect);
      ({ admin } = await createTestUsers(server));
      dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-est-'));
      mkdirSync(path.join(dir, 'data'));
      writeFileSync(path.join(dir, 'data', 'oem-root-ca.pem'), server.rootPem);
    });
    afterAll(async () => {
      rmSync(dir, { recursive: true, force: true });
      await server?.close();
    });

    it('ok/the documented walkthroughs: bootstrap enrolment, re-enrolment, factory certificate with a token', async () => {
      const script = [
        walkthrough('est-walkthrough'),
        // What the walkthrough made, for the checks below.
        'echo "DEVICE_ID=$DEVICE_ID"',
        walkthrough('est-factory-walkthrough'),
        'echo "SE_ID=$SE_ID"',
      ].join('\n');
      // Asynchronously: the server runs in this process and must keep answering.
      const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
        (resolve) => {
          const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
            cwd: dir,
            env: {
              PATH: process.env.PATH ?? '',
              HOME: dir,
              TOKEN: admin.token,
              API: server.managementUrl,
              EST: `${server.deviceUrl}/.well-known/est`,
            },
          });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
          child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
          child.on('close', (status) => resolve({ status, stdout, stderr }));
        },
      );
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      for (const f of ['device.pem', 'renewed.pem', 'se-device.pem'])
        expect(r.stdout).toContain(`${f}: OK`);
      const deviceId = /DEVICE_ID=([0-9a-f]{64})/.exec(r.stdout)![1]!;
      const seId = /SE_ID=([0-9a-f]{64})/.exec(r.stdout)![1]!;
      const get = async (id: string) =>
        (await server.request('GET', `/api/v1/devices/${id}`, { headers: admin.headers })).json<{
          state: string;
          enrolMethod: string;
          certificates: { status: string }[];
        }>();
      expect(await get(deviceId)).toMatchObject({
        state: 'renewed',
        enrolMethod: 'pre-registered',
        certificates: [{ status: 'valid' }, { status: 'valid' }],
      });
      expect(await get(seId)).toMatchObject({
        state: 'enrolled',
        enrolMethod: 'factory-certificate+token',
      });
      const est = (await server.runtime.audit.recent(server.runtime.instance.id, 50)).filter(
        (e) => e.actor.id === deviceId && e.result === 'ok' && e.action.startsWith('device.'),
      );
      expect(est.map((e) => [e.action, e.details.channel])).toEqual([
        ['device.renew', 'est'],
        ['device.enrol', 'est'],
      ]);
    });

    it('fail/EST refuses an unregistered ID, a bootstrap certificate for re-enrolment, a body that is not base64', async () => {
      const d = await testDevice();
      const post = (p: string, body: string) =>
        server.deviceRequest('POST', `/.well-known/est/${p}`, {
          ...tlsAs(d),
          body,
          headers: { 'content-type': 'application/pkcs10' },
        });
      const csr = makeCsr(d).toString('base64');
      expect((await post('simpleenroll', csr)).status).toBe(401);
      expect((await post('simplereenroll', csr)).status).toBe(401);
      expect((await post('simpleenroll', 'not base64!')).status).toBe(400);
      const reasons = (await server.runtime.audit.recent(server.runtime.instance.id, 20))
        .filter((e) => e.result === 'denied' && e.details.channel === 'est')
        .map((e) => String(e.details.reason));
      expect(reasons).toEqual([
        'the body is not a base64 PKCS#10 request',
        'the client certificate (bootstrap) is not a device certificate of this instance',
        'device ID is not registered in any batch',
      ]);
    });
  });
}
