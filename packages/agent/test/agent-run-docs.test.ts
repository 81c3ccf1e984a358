import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers } from '../../server/src/test-helpers/test-auth.js';
import { createPolicyAndBatch } from '../../server/src/test-helpers/test-devices.js';
import { startTestServer, type TestServer } from '../../server/src/test-helpers/test-server.js';
import { startSwtpm, type Swtpm } from '../src/test-helpers/swtpm.js';
import { CLI, agentDocBlock, requireBuiltCli } from './agent-run-helpers.js';

/** The documented `run` walk-through, run as written by bash against a real platform and TPM. */
describe('docs/agent.md: trying run against a local platform (SQLite)', () => {
  let server: TestServer;
  let tpm: Swtpm;
  let dir: string;
  beforeAll(async () => {
    requireBuiltCli();
    [server, tpm] = await Promise.all([startTestServer('sqlite'), startSwtpm()]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-agent-docs-'));
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'data', 'oem-root-ca.pem'), server.rootPem);
    // The walk-through runs from the repository root: give it this build's packages.
    symlinkSync(path.resolve(path.dirname(CLI), '../..'), path.join(dir, 'packages'));
  });
  afterAll(async () => {
    await server?.close();
    await tpm?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ok/the walk-through enrols, shows the status and the credentials, and they verify', async () => {
    const { admin } = await createTestUsers(server);
    const { batchId } = await createPolicyAndBatch(server, admin, 'Docs walk-through');
    const script = [
      // What the page sets up before the block, as it writes it.
      'trustlink_agent() { node "$PWD/packages/agent/dist/cli.js" "$@"; }',
      agentDocBlock('agent-run-walkthrough'),
    ].join('\n');
    // Asynchronously: the platform runs in this process and must keep answering.
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
          cwd: dir,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: dir,
            TOKEN: admin.token,
            BATCH: batchId,
            API: server.managementUrl,
            DEVICE_API: server.deviceUrl,
            TCTI: tpm.tcti,
            TRY: path.join(dir, 'try'),
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
    expect(r.stdout).toMatch(/^state: +enrolled/m);
    const deviceId = /^device ID: +([0-9a-f]{64})$/m.exec(r.stdout)![1]!;
    expect(r.stdout).toContain(`"deviceId":"${deviceId}"`);
    expect(r.stdout).toMatch(/certificate\.pem: OK/);
  });
});
