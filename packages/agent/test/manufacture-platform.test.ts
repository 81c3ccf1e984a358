import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers, type TestPrincipal } from '../../server/src/test-helpers/test-auth.js';
import { createTestClock, type TestClock } from '../../server/src/test-helpers/test-clock.js';
import { brokerCertificates } from '../../server/src/test-helpers/test-mosquitto.js';
import { createPolicyAndBatch, register } from '../../server/src/test-helpers/test-devices.js';
import { startTestServer, type TestServer } from '../../server/src/test-helpers/test-server.js';
import { EXIT } from '../src/commands/exit-codes.js';
import { installBundle } from '../src/test-helpers/agent-bundle.js';
import { expectNoPrivateKeyFiles, filesUnder } from '../src/test-helpers/key-store-checks.js';
import { createSoftHsmToken, type SoftHsmToken } from '../src/test-helpers/softhsm.js';
import { startSwtpm, type Swtpm } from '../src/test-helpers/swtpm.js';

/**
 * `trustlink-agent manufacture` against a running platform, as a production line runs it: the
 * single-file bundle, copied out of the repository, run by plain `node`, with the credential in
 * the station's environment or a file, never in the device's configuration.
 */
describe('manufacture registers the device with a manufacturing credential (bundle)', () => {
  let server: TestServer;
  let clock: TestClock;
  let admin: TestPrincipal;
  let tpm: Swtpm;
  let token: SoftHsmToken;
  let bundle: { dir: string; bin: string };
  let batchId: string;
  let otherBatchId: string;
  const root = mkdtempSync(path.join(tmpdir(), 'trustlink-agent-mfg-'));
  const rootCa = path.join(root, 'root.pem');

  beforeAll(async () => {
    bundle = installBundle();
    clock = createTestClock();
    [server, tpm] = await Promise.all([
      startTestServer('sqlite', { now: clock.now }),
      startSwtpm(),
    ]);
    token = createSoftHsmToken('mfg-test', '2468');
    writeFileSync(rootCa, server.rootPem);
    ({ admin } = await createTestUsers(server));
    batchId = (await createPolicyAndBatch(server, admin, 'line-7')).batchId;
    otherBatchId = (await createPolicyAndBatch(server, admin, 'line-8')).batchId;
  });
  afterAll(async () => {
    await Promise.all([server?.close(), tpm?.stop()]);
    token?.cleanup();
    rmSync(root, { recursive: true, force: true });
    if (bundle) rmSync(bundle.dir, { recursive: true, force: true });
  });

  async function credential(body: Record<string, unknown> = {}) {
    const r = await server.request('POST', '/api/v1/manufacturing-credentials', {
      headers: admin.headers,
      body: {
        name: `station ${Math.random().toString(36).slice(2, 8)}`,
        batchId,
        notAfter: new Date(clock.now().getTime() + 3_600_000).toISOString(),
        maxDevices: 10,
        ...body,
      },
    });
    expect(r.status, r.text).toBe(201);
    return r.json<{ id: string; value: string }>();
  }

  let n = 0;
  function device(keyStore: Record<string, unknown>) {
    const dir = path.join(root, `d${++n}`);
    mkdirSync(dir);
    const file = path.join(dir, 'agent.json');
    writeFileSync(
      file,
      JSON.stringify({
        platformUrl: 'https://localhost:8444',
        rootCaFile: rootCa,
        stateDir: 'state',
        keyStore,
      }),
    );
    return { dir, file, stateDir: path.join(dir, 'state') };
  }

  /** Runs the bundle; asynchronously, since the platform answers from this same process. */
  function agent(args: string[], env: NodeJS.ProcessEnv = {}) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bundle.bin, ...args], {
        cwd: bundle.dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }
  const station = (value: string) => ({
    TRUSTLINK_MANUFACTURING_CREDENTIAL: value,
    TRUSTLINK_MANUFACTURING_URL: server.managementUrl,
  });

  async function devicesIn(id: string) {
    const r = await server.request('GET', `/api/v1/batches/${id}/devices?limit=1000`, {
      headers: admin.headers,
    });
    return r.json<{ items: { id: string; state: string }[] }>().items.map((d) => d.id);
  }
  const used = async (id: string) =>
    (await server.runtime.manufacturing.list(server.runtime.instance.id)).find((c) => c.id === id)
      ?.usedDevices;

  it('ok/TPM: the printed ID is the SHA-256 of the TPM key, lands in the batch, and again is harmless', async () => {
    const c = await credential();
    const d = device({ type: 'tpm', tcti: tpm.tcti });
    const first = await agent(['manufacture', '--config', d.file], station(c.value));
    expect(first.stderr).toMatch(/registered in batch "line-7"/);
    expect(first.code).toBe(EXIT.ok);
    expect(first.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const id = first.stdout.trim();

    const pub = path.join(d.dir, 'tpm-public.der');
    execFileSync('tpm2_readpublic', ['-c', '0x81010002', '-f', 'der', '-o', pub], {
      env: { ...process.env, TPM2TOOLS_TCTI: tpm.tcti },
      stdio: 'pipe',
    });
    expect(createHash('sha256').update(readFileSync(pub)).digest('hex')).toBe(id);
    expect(await devicesIn(batchId)).toContain(id);

    const again = await agent(['manufacture', '--config', d.file], station(c.value));
    expect(again).toMatchObject({ code: EXIT.ok, stdout: first.stdout });
    expect(again.stderr).toMatch(
      /identity key already exists.*\n.*already registered in batch "line-7"; nothing changed/,
    );
    expect(await used(c.id)).toBe(1);
    expect((await agent(['id', '--config', d.file])).stdout).toBe(first.stdout);

    // The credential went nowhere on the device.
    for (const f of filesUnder(d.dir)) expect(readFileSync(f, 'utf8'), f).not.toContain(c.value);
    expectNoPrivateKeyFiles(d.stateDir);
  });

  it('ok/PKCS#11 (SoftHSM2) through the addon beside the bundle, credential from a file', async () => {
    const c = await credential();
    const d = device({ type: 'pkcs11', module: token.module, tokenLabel: token.tokenLabel });
    const credFile = path.join(root, 'station-credential');
    writeFileSync(credFile, `${c.value}\n`, { mode: 0o600 });
    const r = await agent(
      [
        'manufacture',
        '--config',
        d.file,
        '--platform-url',
        server.managementUrl,
        '--credential-file',
        credFile,
        '--root-ca',
        rootCa,
      ],
      { ...token.env, TRUSTLINK_AGENT_PKCS11_PIN: token.pin },
    );
    expect(r.stderr).toMatch(/registered in batch "line-7"/);
    expect(r.code).toBe(EXIT.ok);
    expect(await devicesIn(batchId)).toContain(r.stdout.trim());
    expectNoPrivateKeyFiles(d.stateDir);
  });

  it('ok/without a credential, manufacture only makes the key (file key store)', async () => {
    const d = device({ type: 'file' });
    const r = await agent(['manufacture', '--config', d.file]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stderr).not.toMatch(/registered/);
    expect((await agent(['id', '--config', d.file])).stdout).toBe(r.stdout);
  });

  it('ok/without pkcs11.node beside it, the bundle still runs; only the PKCS#11 key store fails (exit 3)', async () => {
    const bare = mkdtempSync(path.join(root, 'bare-'));
    copyFileSync(bundle.bin, path.join(bare, 'trustlink-agent.mjs'));
    const run = (file: string, env: NodeJS.ProcessEnv = {}) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [path.join(bare, 'trustlink-agent.mjs'), 'id', '--config', file],
          {
            env: { PATH: process.env.PATH, ...env },
          },
        );
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
      });
    const fileStore = device({ type: 'file' });
    expect((await agent(['manufacture', '--config', fileStore.file])).code).toBe(EXIT.ok);
    expect((await run(fileStore.file)).code).toBe(EXIT.ok);
    const p11 = await run(
      device({ type: 'pkcs11', module: token.module, tokenLabel: token.tokenLabel }).file,
      { ...token.env, TRUSTLINK_AGENT_PKCS11_PIN: token.pin },
    );
    expect(p11.code).toBe(EXIT.keyStoreUnavailable);
    expect(p11.stderr).toMatch(/put pkcs11\.node beside the bundle/);
  });

  it('fail/each refusal has its own exit code, prints no ID, and keeps the key', async () => {
    const file = () => device({ type: 'file' }).file;

    const one = await credential({ maxDevices: 1 });
    expect((await agent(['manufacture', '--config', file()], station(one.value))).code).toBe(
      EXIT.ok,
    );
    const usedUp = await agent(['manufacture', '--config', file()], station(one.value));
    expect(usedUp).toMatchObject({ code: EXIT.credentialUsedUp, stdout: '' });
    expect(usedUp.stderr).toMatch(/registered its 1 devices/);

    const gone = await credential();
    await server.request('DELETE', `/api/v1/manufacturing-credentials/${gone.id}`, {
      headers: admin.headers,
    });
    const deleted = await agent(['manufacture', '--config', file()], station(gone.value));
    expect(deleted).toMatchObject({ code: EXIT.credentialRefused, stdout: '' });
    expect(deleted.stderr).toMatch(/unknown or was deleted/);

    const elsewhere = device({ type: 'file' });
    const made = await agent(['manufacture', '--config', elsewhere.file]);
    await register(server, admin, otherBatchId, made.stdout.trim());
    const c = await credential();
    const other = await agent(['manufacture', '--config', elsewhere.file], station(c.value));
    expect(other).toMatchObject({ code: EXIT.deviceInOtherBatch, stdout: '' });
    expect(other.stderr).toMatch(/already registered in another batch/);
    // The key is still the one the ID was made from.
    expect((await agent(['id', '--config', elsewhere.file])).stdout).toBe(made.stdout);

    const down = await agent(['manufacture', '--config', file()], {
      ...station(c.value),
      TRUSTLINK_MANUFACTURING_URL: 'https://127.0.0.1:1',
    });
    expect(down).toMatchObject({ code: EXIT.platformUnreachable, stdout: '' });

    const foreign = brokerCertificates(mkdtempSync(path.join(root, 'foreign-')));
    const foreignRoot = path.join(root, 'foreign-root.pem');
    writeFileSync(foreignRoot, foreign.caPem);
    const untrusted = await agent(
      ['manufacture', '--config', file(), '--root-ca', foreignRoot],
      station(c.value),
    );
    expect(untrusted).toMatchObject({ code: EXIT.platformUntrusted, stdout: '' });
    // The same check and words as `run` (one pinned transport), with the station's hint.
    expect(untrusted.stderr).toMatch(
      /refusing https:\/\/localhost:\d+: the chain ends at ".*", which is not the pinned root ".*" \(pinned root: .*foreign-root\.pem\); check --root-ca/,
    );

    const short = await credential({
      notAfter: new Date(clock.now().getTime() + 60_000).toISOString(),
    });
    clock.advance(120_000);
    const expired = await agent(['manufacture', '--config', file()], station(short.value));
    expect(expired).toMatchObject({ code: EXIT.credentialRefused, stdout: '' });
    expect(expired.stderr).toMatch(/expired at/);
  });

  it('fail/bad station options are configuration errors (exit 2) before any key is made', async () => {
    const cases: [NodeJS.ProcessEnv, string[], RegExp][] = [
      [{ TRUSTLINK_MANUFACTURING_CREDENTIAL: 'tlm_short' }, [], /is not one/],
      [
        { TRUSTLINK_MANUFACTURING_CREDENTIAL: `tlm_${'A'.repeat(43)}` },
        [],
        /--platform-url or TRUSTLINK_MANUFACTURING_URL/,
      ],
      [{}, ['--platform-url', 'https://x.example'], /need a manufacturing credential/],
      [
        { TRUSTLINK_MANUFACTURING_CREDENTIAL: `tlm_${'A'.repeat(43)}` },
        ['--platform-url', 'http://x.example'],
        /must be an https/,
      ],
    ];
    for (const [env, args, message] of cases) {
      const d = device({ type: 'file' });
      const r = await agent(['manufacture', '--config', d.file, ...args], env);
      expect(r.code, message.source).toBe(EXIT.config);
      expect(r.stderr).toMatch(message);
      expect((await agent(['id', '--config', d.file])).code).toBe(EXIT.noIdentity);
    }
  });
});
