import { execFileSync } from 'node:child_process';
import { verifyManifest } from '@trustlink/protocol';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers } from '../../server/src/test-helpers/test-auth.js';
import {
  createPolicyAndBatch,
  register,
  testDevice,
} from '../../server/src/test-helpers/test-devices.js';
import { firmwareApi } from '../../server/src/test-helpers/test-firmware.js';
import { startTestServer, type TestServer } from '../../server/src/test-helpers/test-server.js';
import { parseAgentConfig } from '../src/config/agent-config.js';
import { openKeyStore } from '../src/keystore/open-key-store.js';
import { createAgentDaemon } from '../src/run/agent-daemon.js';
import { problemError } from '../src/run/device-api-client.js';
import type { UpdateHandler } from '../src/run/update-handler.js';
import { RUN_EXIT } from '../src/run/run-command.js';
import { PlatformUntrustedError } from '../src/run/run-errors.js';
import { createRunLog } from '../src/run/run-log.js';
import { readAgentState } from '../src/state/agent-state.js';
import { expectNoPrivateKeyFiles } from '../src/test-helpers/key-store-checks.js';
import { createSoftHsmToken, type SoftHsmToken } from '../src/test-helpers/softhsm.js';
import { startSwtpm, type Swtpm } from '../src/test-helpers/swtpm.js';
import {
  agent,
  agentAsync,
  certificateSpki,
  freePort,
  localApi,
  pemSpki,
  requireBuiltCli,
  startAgent,
  writeAgentConfig,
} from './agent-run-helpers.js';

const root = mkdtempSync(path.join(tmpdir(), 'trustlink-agent-run-'));
beforeAll(() => requireBuiltCli());
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Status {
  deviceId: string;
  state: string;
  certificate: { serial: string; notAfter: string } | null;
  lastCheckInAt: string | null;
  update: { id: string; state: string } | null;
  revokedAt: string | null;
  lastError: { message: string } | null;
}
const statusOf = (file: string, env: NodeJS.ProcessEnv = {}) => {
  const r = agent(['status', '--json', '--config', file], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Status;
};

describe('trustlink-agent run with a TPM (swtpm), platform on SQLite', () => {
  let tpm: Swtpm;
  let server: TestServer;
  beforeAll(async () => {
    [tpm, server] = await Promise.all([startSwtpm(), startTestServer('sqlite')]);
  });
  afterAll(async () => {
    await server?.close();
    await tpm?.stop();
  });

  it('ok/enrols, writes credentials without key bytes, serves the local API, hears of an update; revoked: stops and says so', async () => {
    const { admin } = await createTestUsers(server);
    const fw = firmwareApi(server, admin);
    const batchId = await fw.batch('Agent TPM');
    const cfg = writeAgentConfig(path.join(root, 'tpm'), {
      platformUrl: server.deviceUrl,
      rootPem: server.rootPem,
      keyStore: { type: 'tpm', tcti: tpm.tcti },
    });
    const made = agent(['manufacture', '--config', cfg.file]);
    expect(made.code, made.stderr).toBe(0);
    const deviceId = made.stdout.trim();
    await register(server, admin, batchId, deviceId);

    const daemon = startAgent(cfg.file);
    try {
      await daemon.waitFor(/info local API listening/);
      await daemon.waitFor(/info certificate enrolled serial=/);

      // The certificate is for the TPM's key, as tpm2-tools read it from the TPM itself.
      const tpmPem = path.join(root, 'tpm', 'tpm-public.pem');
      execFileSync('tpm2_readpublic', ['-c', '0x81010002', '-f', 'pem', '-o', tpmPem], {
        env: { ...process.env, TPM2TOOLS_TCTI: tpm.tcti },
        stdio: 'pipe',
      });
      const certFile = path.join(cfg.credentialsDir, 'certificate.pem');
      expect(certificateSpki(certFile).equals(pemSpki(readFileSync(tpmPem, 'utf8')))).toBe(true);
      expect(statSync(cfg.credentialsDir).mode & 0o777).toBe(0o750);
      expect(statSync(certFile).mode & 0o777).toBe(0o640);
      expect(statSync(path.join(cfg.runDir, 'agent.sock')).mode & 0o777).toBe(0o660);
      // The chain verifies to the pinned root with openssl, as an application would check it.
      execFileSync('openssl', [
        'verify',
        '-CAfile',
        path.join(cfg.credentialsDir, 'ca-bundle.pem'),
        '-untrusted',
        path.join(cfg.credentialsDir, 'chain.pem'),
        certFile,
      ]);

      const sock = path.join(cfg.runDir, 'agent.sock');
      const creds = await localApi(sock, 'GET', '/v1/credentials');
      expect(creds.status).toBe(200);
      expect(creds.json()).toMatchObject({
        deviceId,
        generation: 1,
        key: { type: 'tpm', persistentHandle: '0x81010002', tcti: tpm.tcti },
        files: { certificate: certFile },
      });
      // The platform has no database token route for this device: a clear 404, not a hang.
      const token = await localApi(sock, 'POST', '/v1/database-token');
      expect(token.status).toBe(404);
      expect(token.json<{ detail: string }>().detail).toMatch(/no database-direct connection/);
      // Nor a hub token: its policy names no hub with custom authentication.
      const hubToken = await localApi(sock, 'POST', '/v1/hub-token');
      expect(hubToken.status).toBe(404);
      expect(hubToken.json<{ detail: string }>().detail).toMatch(/no custom authentication/);
      expect((await localApi(sock, 'GET', '/v1/nothing')).status).toBe(404);

      // An update reaches the OTA handler at the next check-in. The batch had no signing key
      // when the device enrolled, so nothing can verify the manifest: the update is reported
      // failed with the reason, and the platform shows it.
      const firmware = await fw.upload(
        'name=agent-run&version=1.0.0&securityVersion=1&format=raw&input=binary',
        Buffer.alloc(1000, 1),
      );
      const key = await fw.signingKey('agent run key', 'P-256');
      expect((await fw.assign(batchId, firmware.id, key.id)).status).toBe(200);
      await daemon.waitFor(/error update failed .*no signing key was pinned at enrolment/);
      // The log line comes before the report is sent and the state written: wait for both.
      for (let i = 0; i < 100 && statusOf(cfg.file).update?.state !== 'handled'; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const running = statusOf(cfg.file);
      expect(running).toMatchObject({ deviceId, state: 'enrolled', update: { state: 'handled' } });
      expect(running.lastCheckInAt).not.toBeNull();
      const text = agent(['status', '--config', cfg.file]);
      expect(text.stdout).toMatch(new RegExp(`device ID: +${deviceId}`));
      expect(text.stdout).toMatch(/certificate: +serial [0-9a-f]+, expires 20/);

      const revoked = await server.request('POST', `/api/v1/devices/${deviceId}/revoke`, {
        headers: admin.headers,
        body: { reason: 'keyCompromise' },
      });
      expect(revoked.status).toBeLessThan(300);
      await daemon.waitFor(/error device revoked/);
      expect(await daemon.exited()).toBe(RUN_EXIT.revoked);
    } finally {
      await daemon.stop();
    }
    const after = statusOf(cfg.file);
    expect(after.state).toBe('revoked');
    expect(after.revokedAt).not.toBeNull();
    // Started again (systemd would not, but a person might): it stops at once, saying why.
    const again = agent(['run', '--config', cfg.file]);
    expect(again.code).toBe(RUN_EXIT.revoked);
    expect(again.stderr).toMatch(/device is revoked/);

    expectNoPrivateKeyFiles(cfg.stateDir);
    expectNoPrivateKeyFiles(cfg.credentialsDir);
  });
});

describe('trustlink-agent run with PKCS#11 (SoftHSM2), platform on PostgreSQL', () => {
  let token: SoftHsmToken;
  const servers: TestServer[] = [];
  beforeAll(() => {
    token = createSoftHsmToken('agent-run', '3579');
    // The test reads the token's key itself too; SoftHSM2 finds its token directory by this.
    process.env.SOFTHSM2_CONF = token.env.SOFTHSM2_CONF;
  });
  afterAll(async () => {
    for (const s of servers) await s.close({ keepData: true }).catch(() => undefined);
    await servers[0]?.database.drop();
    token?.cleanup();
  });

  it('ok/platform down at start, restarted mid-run; a short-lived certificate is renewed and applications are told', async () => {
    const port = await freePort();
    const env = { TRUSTLINK_DEVICE_PORT: String(port) };
    const first = await startTestServer('postgres', { env });
    servers.push(first);
    const { admin } = await createTestUsers(first);
    // 3 minutes, backdated 5: due for renewal about 20 s after issue.
    const { batchId } = await createPolicyAndBatch(first, admin, 'Agent PKCS11', {
      lifetime: { value: 3, unit: 'minutes' },
    });
    const agentEnv = { ...token.env, TRUSTLINK_AGENT_PKCS11_PIN: token.pin };
    const cfg = writeAgentConfig(path.join(root, 'p11'), {
      platformUrl: first.deviceUrl,
      rootPem: first.rootPem,
      keyStore: { type: 'pkcs11', module: token.module, tokenLabel: token.tokenLabel },
    });
    const made = agent(['manufacture', '--config', cfg.file], agentEnv);
    expect(made.code, made.stderr).toBe(0);
    const deviceId = made.stdout.trim();
    await register(first, admin, batchId, deviceId);
    await first.close({ keepData: true });

    const daemon = startAgent(cfg.file, agentEnv);
    try {
      // Down at start: it retries with growing waits, and says why.
      await daemon.waitFor(/warn cannot reach https:.*retrying in/);
      await daemon.waitFor(/warn cannot reach .*retrying in .* failures=2/);
      const restart = () =>
        startTestServer('postgres', { env, database: first.database, home: first.home });
      const second = await restart();
      servers.push(second);
      await daemon.waitFor(/info certificate enrolled/);
      await daemon.waitFor(/info the platform answers again/);
      const sock = path.join(cfg.runDir, 'agent.sock');
      const enrolled = (await localApi(sock, 'GET', '/v1/credentials')).json<{
        generation: number;
        certificate: { serial: string };
        key: Record<string, string>;
      }>();
      expect(enrolled.key).toMatchObject({
        type: 'pkcs11',
        tokenLabel: token.tokenLabel,
        uri: `pkcs11:token=${token.tokenLabel};object=trustlink-identity;type=private`,
      });
      const store = openKeyStore(
        parseAgentConfig(JSON.parse(readFileSync(cfg.file, 'utf8')), cfg.file),
        {
          env: agentEnv,
          warn: () => {},
        },
      );
      const tokenKey = (await store.publicKey())!.spkiDer;
      expect(
        certificateSpki(path.join(cfg.credentialsDir, 'certificate.pem')).equals(tokenKey),
      ).toBe(true);

      // Restarted mid-run: check-ins fail, then it comes back on its own.
      await second.close({ keepData: true });
      await daemon.waitFor(/warn .*retrying in/);
      const third = await restart();
      servers.push(third);
      await daemon.waitFor(/info the platform answers again/);

      // The certificate is due about 20 s after issue: a long-poll answers when the renewal lands.
      const before = (await localApi(sock, 'GET', '/v1/credentials')).json<{
        generation: number;
        certificate: { serial: string };
      }>();
      const renewed = await localApi(
        sock,
        'GET',
        `/v1/credentials?after=${before.generation}&wait=120`,
      );
      expect(renewed.status).toBe(200);
      const next = renewed.json<{ generation: number; certificate: { serial: string } }>();
      expect(next.generation).toBeGreaterThan(before.generation);
      expect(next.certificate.serial).not.toBe(before.certificate.serial);
      await daemon.waitFor(/info renewing the certificate/);
      await daemon.waitFor(/info certificate renewed serial=/);
      const shown = statusOf(cfg.file, agentEnv);
      expect(shown.certificate?.serial).not.toBe(enrolled.certificate.serial);
      expect(
        certificateSpki(path.join(cfg.credentialsDir, 'certificate.pem')).equals(tokenKey),
      ).toBe(true);
      expect(await daemon.stop()).toBe(0);
    } finally {
      await daemon.stop();
    }
    // Restarted, the agent carries on from its state: no second enrolment.
    const once = await agentAsync(['run', '--once', '--config', cfg.file], agentEnv);
    expect(once.code, once.stderr).toBe(0);
    expect(once.stderr).not.toMatch(/enrolling/);
    expect(statusOf(cfg.file, agentEnv)).toMatchObject({ deviceId, state: 'enrolled' });
    expectNoPrivateKeyFiles(cfg.stateDir);
    expectNoPrivateKeyFiles(cfg.credentialsDir);
  });
});

describe('trustlink-agent run with the file key store, platform on SQLite', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
  });
  afterAll(async () => server?.close());

  it('fail/a platform whose chain ends at another root is refused before anything is sent', async () => {
    const other = await testDevice('P-256'); // any self-signed certificate will do as a wrong root
    const cfg = writeAgentConfig(path.join(root, 'wrong-root'), {
      platformUrl: server.deviceUrl,
      rootPem: other.bootstrapPem,
      keyStore: { type: 'file' },
    });
    expect(agent(['manufacture', '--config', cfg.file]).code).toBe(0);
    const r = await agentAsync(['run', '--once', '--config', cfg.file]);
    expect(r.code).toBe(RUN_EXIT.untrusted);
    expect(r.stderr).toMatch(
      /refusing https:\/\/localhost:\d+: the chain ends at ".*", which is not the pinned root "CN=bootstrap" \(pinned root: .*root-ca\.pem\)/,
    );
    const s = statusOf(cfg.file);
    expect(s.state).toBe('unenrolled');
    expect(s.lastError?.message).toMatch(/not the pinned root/);
  });

  it('ok/run --once enrols a pre-registered device; the certificate is for the file key', async () => {
    const { admin } = await createTestUsers(server);
    const { batchId } = await createPolicyAndBatch(server, admin, 'Agent file');
    const hookOut = path.join(root, 'file-hook.txt');
    const cfg = writeAgentConfig(path.join(root, 'file'), {
      platformUrl: server.deviceUrl,
      rootPem: server.rootPem,
      keyStore: { type: 'file' },
      hooks: {
        credentialsUpdated: ['/bin/sh', '-c', 'echo "$TRUSTLINK_CREDENTIALS_DIR" > "$0"', hookOut],
      },
    });
    const made = agent(['manufacture', '--config', cfg.file]);
    await register(server, admin, batchId, made.stdout.trim());
    const r = await agentAsync(['run', '--once', '--config', cfg.file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warn|development/i);
    const keyPem = readFileSync(path.join(cfg.stateDir, 'identity-key.pem'), 'utf8');
    expect(
      certificateSpki(path.join(cfg.credentialsDir, 'certificate.pem')).equals(pemSpki(keyPem)),
    ).toBe(true);
    const creds = JSON.parse(
      readFileSync(path.join(cfg.credentialsDir, 'credentials.json'), 'utf8'),
    );
    expect(creds.key).toEqual({ type: 'file', path: path.join(cfg.stateDir, 'identity-key.pem') });
    // The hook ran once the new certificate was in place, told where to find it.
    expect(readFileSync(hookOut, 'utf8').trim()).toBe(cfg.credentialsDir);
    // The key file stays where it was: the credentials directory only names it.
    expectNoPrivateKeyFiles(cfg.credentialsDir);
  });

  it("ok/a device whose clock says 1970 enrols on the platform's signed time; trusting that clock fails", async () => {
    const { admin } = await createTestUsers(server);
    const { batchId } = await createPolicyAndBatch(server, admin, 'Agent no clock');
    const dir = path.join(root, 'no-clock');
    const made = writeAgentConfig(dir, {
      platformUrl: server.deviceUrl,
      rootPem: server.rootPem,
      keyStore: { type: 'file' },
    });
    expect(agent(['manufacture', '--config', made.file]).code).toBe(0);
    const raw = JSON.parse(readFileSync(made.file, 'utf8'));
    const lines: string[] = [];
    const log = createRunLog((l) => lines.push(l));
    const daemonWith = (timeSource: string) => {
      const config = parseAgentConfig({ ...raw, timeSource }, made.file);
      const store = openKeyStore(config, { env: {}, warn: () => {} });
      return createAgentDaemon({
        config,
        store,
        log,
        systemClock: () => new Date('1970-01-01T00:00:42Z'),
      });
    };
    const id = agent(['id', '--config', made.file]).stdout.trim();
    await register(server, admin, batchId, id);

    // Trusting a clock that says 1970, the platform's certificates are not valid yet.
    const trusting = daemonWith('system');
    await trusting.init();
    await expect(trusting.run({ once: true })).rejects.toThrow(PlatformUntrustedError);
    expect(lines.join('')).toMatch(/is not valid before/);

    const daemon = daemonWith('platform');
    await daemon.init();
    expect(await daemon.run({ once: true })).toBe('ok');
    expect(lines.join('')).toMatch(/info using signed time from the platform time=20\d\d-/);
    const state = readAgentState(made.stateDir)!;
    expect(state.phase).toBe('enrolled');
    // The floor is the platform's time, not the board's 1970.
    expect(Math.abs(Date.parse(state.timeFloor!) - Date.now())).toBeLessThan(120_000);
  });

  it("ok/an offered update reaches the update handler, which fetches the manifest with the agent's session", async () => {
    const { admin } = await createTestUsers(server);
    const fw = firmwareApi(server, admin);
    const batchId = await fw.batch('Agent update seam');
    const dir = path.join(root, 'update-seam');
    const made = writeAgentConfig(dir, {
      platformUrl: server.deviceUrl,
      rootPem: server.rootPem,
      keyStore: { type: 'file' },
    });
    const id = agent(['manufacture', '--config', made.file]).stdout.trim();
    await register(server, admin, batchId, id);
    const firmware = await fw.upload(
      'name=seam&version=2.0.0&securityVersion=2&format=raw&input=binary',
      Buffer.alloc(500, 2),
    );
    const key = await fw.signingKey('seam key', 'P-256');
    expect((await fw.assign(batchId, firmware.id, key.id)).status).toBe(200);

    const seen: { id: string; manifest: string; verified: boolean }[] = [];
    const handler: UpdateHandler = {
      async handle(update, ctx) {
        const res = await ctx.api.sessionRequest({ method: 'GET', path: update.manifestUrl });
        if (res.status !== 200) throw problemError('manifest', res);
        const jws = res.body.toString('utf8').trim().replace(/^"|"$/g, '');
        const v = verifyManifest(jws, {
          publicKeySpki: Buffer.from(ctx.signing!.publicKey, 'base64url'),
          expected: {
            instanceId: ctx.instanceId,
            deviceId: ctx.deviceId,
            batchId: ctx.batchId,
            hardware: {},
            installedSecurityVersion: 0,
            now: ctx.now(),
          },
        });
        seen.push({ id: update.id, manifest: jws, verified: v.ok });
      },
    };
    const config = parseAgentConfig(JSON.parse(readFileSync(made.file, 'utf8')), made.file);
    const daemon = createAgentDaemon({
      config,
      store: openKeyStore(config, { env: {}, warn: () => {} }),
      log: createRunLog(() => {}),
      updateHandler: handler,
    });
    await daemon.init();
    expect(await daemon.run({ once: true })).toBe('ok');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.verified).toBe(true);
    expect(readAgentState(made.stateDir)!.update).toMatchObject({
      id: seen[0]!.id,
      state: 'handled',
    });
    // Handled once: the next check-in offers the same update and the handler is not called again.
    expect(await daemon.run({ once: true })).toBe('ok');
    expect(seen).toHaveLength(1);
  });
});

describe("trustlink-agent run and the platform's automatic renewal, platform on SQLite", () => {
  let server: TestServer;
  // The platform's clock runs with real time, plus whatever the test adds to it.
  let ahead = 0;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { now: () => new Date(Date.now() + ahead) });
  });
  afterAll(async () => server?.close());

  it('ok/a new serial at check-in: the agent fetches the certificate the platform renewed', async () => {
    const { admin } = await createTestUsers(server);
    const { batchId } = await createPolicyAndBatch(server, admin, 'Agent auto renew', {
      lifetime: { value: 3, unit: 'minutes' },
      autoRenew: true,
    });
    const cfg = writeAgentConfig(path.join(root, 'auto'), {
      platformUrl: server.deviceUrl,
      rootPem: server.rootPem,
      keyStore: { type: 'file' },
    });
    const made = agent(['manufacture', '--config', cfg.file]);
    await register(server, admin, batchId, made.stdout.trim());
    const daemon = startAgent(cfg.file);
    try {
      const enrolled = await daemon.waitFor(/info certificate enrolled serial=/);
      const first = /serial=([0-9a-f]+)/.exec(enrolled)![1]!;
      // Due about 20 s after issue; the platform gets there first, 30 s ahead.
      ahead = 30_000;
      expect((await server.runtime.enrolment.jobs.runOnce()).renewed).toBe(1);
      await daemon.waitFor(/info the platform has a newer certificate serial=/);
      const fetched = await daemon.waitFor(
        /info certificate fetched after automatic renewal serial=/,
      );
      const second = /serial=([0-9a-f]+)/.exec(fetched)![1]!;
      expect(second).not.toBe(first);
      expect(daemon.lines.join('\n')).not.toMatch(/renewing the certificate/);
      const creds = JSON.parse(
        readFileSync(path.join(cfg.credentialsDir, 'credentials.json'), 'utf8'),
      );
      expect(creds).toMatchObject({ generation: 2, certificate: { serial: second } });
      const keyPem = readFileSync(path.join(cfg.stateDir, 'identity-key.pem'), 'utf8');
      expect(
        certificateSpki(path.join(cfg.credentialsDir, 'certificate.pem')).equals(pemSpki(keyPem)),
      ).toBe(true);
    } finally {
      await daemon.stop();
    }
  });

  it('ok/expired while away: renews with a proof within the grace period, enrols again after it', async () => {
    ahead = 0;
    const { admin } = await createTestUsers(server);
    const { batchId } = await createPolicyAndBatch(server, admin, 'Agent expiry', {
      lifetime: { value: 3, unit: 'minutes' },
      renewGracePeriod: { value: 1, unit: 'minutes' },
    });
    const made = writeAgentConfig(path.join(root, 'expiry'), {
      platformUrl: server.deviceUrl,
      rootPem: server.rootPem,
      keyStore: { type: 'file' },
    });
    await register(
      server,
      admin,
      batchId,
      agent(['manufacture', '--config', made.file]).stdout.trim(),
    );
    const config = parseAgentConfig(JSON.parse(readFileSync(made.file, 'utf8')), made.file);
    const lines: string[] = [];
    // The device's clock and the platform's move on together, as if the device had been off.
    const daemon = createAgentDaemon({
      config,
      store: openKeyStore(config, { env: {}, warn: () => {} }),
      log: createRunLog((l) => lines.push(l)),
      systemClock: () => new Date(Date.now() + ahead),
    });
    await daemon.init();
    const serial = () => readAgentState(made.stateDir)!.certificate!.serial;
    expect(await daemon.run({ once: true })).toBe('ok');
    const first = serial();

    ahead = 3.5 * 60_000; // expired half a minute ago: within the minute of grace
    expect(await daemon.run({ once: true })).toBe('ok');
    expect(lines.join('')).toMatch(/info certificate expired: renewing with a proof/);
    const second = serial();
    expect(second).not.toBe(first);

    ahead += 5 * 60_000; // the renewed one (3 minutes) is now past its grace too
    expect(await daemon.run({ once: true })).toBe('ok');
    expect(lines.join('')).toMatch(/warn renewal after expiry refused .*enrolling again/);
    expect(serial()).not.toBe(second);
    expect(readAgentState(made.stateDir)!.phase).toBe('enrolled');
  });
});
