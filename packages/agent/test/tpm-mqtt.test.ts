import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProofHeader, type EnrolResponse } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers } from '../../server/src/test-helpers/test-auth.js';
import { challenge, createPolicyAndBatch } from '../../server/src/test-helpers/test-devices.js';
import { brokerCertificates, freePort } from '../../server/src/test-helpers/test-mosquitto.js';
import { eventually, mosquittoSubscriber } from '../../server/src/test-helpers/test-mqtt.js';
import { startTestServer, type TestServer } from '../../server/src/test-helpers/test-server.js';
import { loadAgentConfig } from '../src/config/agent-config.js';
import { createCsr } from '../src/identity/csr-builder.js';
import { identitySigner } from '../src/identity/identity-signer.js';
import { openKeyStore } from '../src/keystore/open-key-store.js';
import { expectNoPrivateKeyFiles, opensslVerifyCsr } from '../src/test-helpers/key-store-checks.js';
import { startSwtpm, type Swtpm } from '../src/test-helpers/swtpm.js';
import {
  startTpmResourceManager,
  type TpmResourceManager,
} from '../src/test-helpers/tpm-resource-manager.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const SRK = '0x81000001';
const pem = (der: Buffer, label = 'CERTIFICATE') =>
  `-----BEGIN ${label}-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END ${label}-----\n`.replace(
    /\n\n/g,
    '\n',
  );

/**
 * docs/agent.md, "Using the TPM key in your own TLS client": the agent makes its identity key
 * in the TPM, the platform certifies it, and an unmodified MQTT client (mosquitto_pub) signs its
 * TLS handshake with that same key through OpenSSL's tpm2 provider. The key never leaves the
 * TPM; what the application holds is a TPM-wrapped blob that only this TPM can load.
 */
describe('an application uses the TPM-held identity key for its own MQTT connection', () => {
  let tpm: Swtpm;
  let rm: TpmResourceManager;
  let server: TestServer;
  let broker: ReturnType<typeof spawn> | undefined;
  let brokerLog = '';
  const dir = mkdtempSync(path.join(tmpdir(), 'trustlink-tpm-mqtt-'));
  const f = (n: string) => path.join(dir, n);
  let toolEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    [tpm, server] = await Promise.all([startSwtpm(), startTestServer('sqlite')]);
    rm = await startTpmResourceManager(tpm.tcti);
    // The key store runs tpm2-tools with this process's environment: it must reach the bus.
    process.env.DBUS_SESSION_BUS_ADDRESS = rm.env.DBUS_SESSION_BUS_ADDRESS;
    toolEnv = { ...process.env, ...rm.env, TPM2TOOLS_TCTI: rm.tcti, TSS2_LOG: 'all+NONE' };
    // The resource manager may take up to three starts of 30 s each (tpm-resource-manager.ts).
  }, 240_000);
  afterAll(async () => {
    if (broker && broker.exitCode === null) {
      broker.kill();
      await new Promise((r) => broker!.once('exit', r));
    }
    await server?.close();
    await rm?.stop();
    await tpm?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ok/manufacture, enrol, then mosquitto_pub connects with the TPM key', async () => {
    // A persistent storage key, so a TPM-wrapped blob names a parent any TPM client can use.
    const tool = (cmd: string, args: string[]) =>
      execFileSync(cmd, args, { env: toolEnv, stdio: 'pipe' });
    tool('tpm2_createprimary', [
      '-C',
      'o',
      '-g',
      'sha256',
      '-G',
      'ecc256:aes128cfb',
      '-c',
      f('srk.ctx'),
    ]);
    tool('tpm2_evictcontrol', ['-C', 'o', '-c', f('srk.ctx'), SRK]);

    // The production line: the platform knows the batch, the station holds a credential.
    const { admin } = await createTestUsers(server);
    const { batchId } = await createPolicyAndBatch(server, admin, 'tpm-line');
    const cred = await server.request('POST', '/api/v1/manufacturing-credentials', {
      headers: admin.headers,
      body: {
        name: 'tpm station',
        batchId,
        notAfter: new Date(Date.now() + 3_600_000).toISOString(),
        maxDevices: 1,
      },
    });
    expect(cred.status).toBe(201);
    writeFileSync(f('root.pem'), server.rootPem);
    const config = {
      platformUrl: server.deviceUrl,
      rootCaFile: 'root.pem',
      stateDir: 'state',
      keyStore: { type: 'tpm', tcti: rm.tcti, keyLocation: 'blob', parent: SRK },
    };
    writeFileSync(f('agent.json'), JSON.stringify(config));
    // Asynchronously: the platform answers from this same process.
    const made = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = spawn(process.execPath, [CLI, 'manufacture', '--config', f('agent.json')], {
          env: {
            PATH: process.env.PATH,
            ...rm.env,
            TRUSTLINK_MANUFACTURING_CREDENTIAL: cred.json<{ value: string }>().value,
            TRUSTLINK_MANUFACTURING_URL: server.managementUrl,
          },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      },
    );
    expect(made.stderr).toMatch(/registered in batch "tpm-line"/);
    expect(made.status).toBe(0);
    const deviceId = made.stdout.trim();

    // Enrolment through the device API, the proof and the CSR signed inside the TPM.
    const agentConfig = loadAgentConfig(f('agent.json'));
    const store = openKeyStore(agentConfig, { env: toolEnv, warn: () => {} });
    const key = (await store.publicKey())!;
    const body = JSON.stringify({ csr: (await createCsr(store, deviceId)).toString('base64url') });
    const proof = await createProofHeader({
      credential: { type: 'spki', der: key.spkiDer },
      purpose: 'enrol',
      nonce: await challenge(server),
      request: {
        host: '127.0.0.1',
        method: 'POST',
        path: '/device/v1/enrol',
        body: Buffer.from(body),
      },
      signer: await identitySigner(store),
    });
    const enrolled = await server.deviceRequest('POST', '/device/v1/enrol', {
      body,
      headers: { 'content-type': 'application/json', 'trustlink-proof': proof },
    });
    expect(enrolled.status, enrolled.text).toBe(200);
    const e = enrolled.json<EnrolResponse>();
    const certDer = Buffer.from(e.certificate, 'base64url');
    writeFileSync(f('device.pem'), pem(certDer));
    // The certificate certifies the TPM key.
    expect(new X509Certificate(certDer).publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      key.spkiDer,
    );
    const caChain = [...e.chain, ...e.trustAnchors].map((c) => pem(Buffer.from(c, 'base64url')));
    writeFileSync(f('trustlink-ca.pem'), caChain.join(''));

    // What the application needs: the TPM-wrapped key as a TSS2 PEM (the docs' commands).
    // The commands of docs/agent.md, with the test's directories.
    const docs = readFileSync(new URL('../../../docs/agent.md', import.meta.url), 'utf8');
    const block = /```sh\n((?:(?!```)[\s\S])*tpm2_encodeobject(?:(?!```)[\s\S])*)```/.exec(
      docs,
    )?.[1];
    expect(block).toBeDefined();
    const script = block!
      .replace(/^\s*cd \/etc\/trustlink\n/m, '')
      .replaceAll('/var/lib/trustlink-agent', f('state'));
    execFileSync('sh', ['-ec', script], { cwd: dir, env: toolEnv, stdio: 'pipe' });
    const wrapped = readFileSync(f('identity.tss2.pem'));
    expect(wrapped.toString()).toMatch(/^-----BEGIN TSS2 PRIVATE KEY-----/);
    // Not a private key anything but this TPM can use.
    expect(() => createPrivateKey(wrapped)).toThrow();
    expectNoPrivateKeyFiles(f('state'));

    // A broker that trusts the platform's CAs and names clients by their certificate.
    const [tlsPort, plainPort] = [await freePort(), await freePort()];
    const srv = brokerCertificates(dir);
    writeFileSync(f('broker-ca.pem'), srv.caPem);
    writeFileSync(
      f('mosquitto.conf'),
      [
        'per_listener_settings true',
        'persistence false',
        `user ${userInfo().username}`,
        'log_dest stdout',
        'log_type all',
        `listener ${tlsPort} 127.0.0.1`,
        `certfile ${srv.cert}`,
        `keyfile ${srv.key}`,
        `cafile ${f('trustlink-ca.pem')}`,
        'require_certificate true',
        'use_identity_as_username true',
        `listener ${plainPort} 127.0.0.1`,
        'allow_anonymous true',
        '',
      ].join('\n'),
    );
    broker = spawn('stdbuf', ['-oL', 'mosquitto', '-c', f('mosquitto.conf')]);
    broker.stdout!.on('data', (d: Buffer) => (brokerLog += d.toString()));
    broker.stderr!.on('data', (d: Buffer) => (brokerLog += d.toString()));
    await eventually(
      () => /Opening ipv4 listen socket on port \d+/.test(brokerLog),
      5000,
      'mosquitto',
    );
    const sub = mosquittoSubscriber([
      '-h',
      '127.0.0.1',
      '-p',
      String(plainPort),
      '-t',
      'devices/#',
      '-v',
    ]);
    await eventually(() => brokerLog.includes('Sending SUBACK'), 5000, 'subscription');

    // OpenSSL configuration with the tpm2 provider (docs/agent.md).
    // The OpenSSL configuration of docs/agent.md, as written there.
    const ini = /```ini\n((?:(?!```)[\s\S])*tpm2_sect(?:(?!```)[\s\S])*)```/.exec(docs)?.[1];
    expect(ini).toBeDefined();
    writeFileSync(f('openssl-tpm2.cnf'), ini!.replace(/^ +/gm, ''));
    const pub = (env: NodeJS.ProcessEnv) =>
      spawnSync(
        'mosquitto_pub',
        [
          '-h',
          'localhost',
          '-p',
          String(tlsPort),
          '--cafile',
          f('broker-ca.pem'),
          '--cert',
          f('device.pem'),
          '--key',
          f('identity.tss2.pem'),
          '-i',
          deviceId,
          '-t',
          `devices/${deviceId}/hello`,
          '-m',
          'signed in the TPM',
        ],
        { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH, ...env } },
      );

    // Without the provider, the PEM is no key at all: the connection cannot be made.
    const plain = pub({});
    expect(plain.status).not.toBe(0);

    const r = pub({ ...rm.env, OPENSSL_CONF: f('openssl-tpm2.cnf'), TPM2OPENSSL_TCTI: rm.tcti });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
    await eventually(
      () => sub.lines.includes(`devices/${deviceId}/hello signed in the TPM`),
      10_000,
      'the message',
    );
    // The broker knew the client by its Trustlink certificate.
    expect(brokerLog).toContain(`u'${new X509Certificate(certDer).subject.replace(/^CN=/, '')}'`);
    sub.proc.kill();
  });
  it("ok/the agent's pkcs11 key store works over tpm2-pkcs11 on the same TPM", async () => {
    // The other natural way to share one TPM: a tpm2-pkcs11 token (docs/agent.md says why an
    // OpenSSL engine cannot use it in-process here; the agent itself can).
    const store = f('tpm2-pkcs11');
    execFileSync('mkdir', ['-p', store]);
    const env = {
      ...toolEnv,
      TPM2_PKCS11_TCTI: rm.tcti,
      TPM2_PKCS11_STORE: store,
      TPM2_PKCS11_LOG_LEVEL: '0',
    };
    const ptool = (args: string[]) => execFileSync('tpm2_ptool', args, { env, stdio: 'pipe' });
    ptool(['init', `--primary-handle=${SRK}`, `--path=${store}`]);
    ptool([
      'addtoken',
      '--pid=1',
      '--label=agent',
      '--userpin=2468',
      '--sopin=1357',
      `--path=${store}`,
    ]);
    writeFileSync(
      f('agent-p11.json'),
      JSON.stringify({
        platformUrl: server.deviceUrl,
        rootCaFile: 'root.pem',
        stateDir: 'state-p11',
        keyStore: {
          type: 'pkcs11',
          module: '/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so',
          tokenLabel: 'agent',
        },
      }),
    );
    const run = (cmd: string) =>
      spawnSync(process.execPath, [CLI, cmd, '--config', f('agent-p11.json')], {
        encoding: 'utf8',
        env: { ...env, TRUSTLINK_AGENT_PKCS11_PIN: '2468' },
      });
    const made = run('manufacture');
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    expect(made.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const again = run('manufacture');
    expect(again.stdout).toBe(made.stdout);
    expect(again.stderr).toMatch(/already exists/);
    const csr = run('csr');
    expect(csr.status).toBe(0);
    expect(opensslVerifyCsr(csr.stdout)).toContain(`CN = ${made.stdout.trim()}`);
    expectNoPrivateKeyFiles(f('state-p11'));
  });
});
