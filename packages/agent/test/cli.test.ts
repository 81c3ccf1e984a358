import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/commands/exit-codes.js';
import { expectNoPrivateKeyFiles, opensslVerifyCsr } from '../src/test-helpers/key-store-checks.js';
import { createSoftHsmToken, type SoftHsmToken } from '../src/test-helpers/softhsm.js';
import { startSwtpm, type Swtpm } from '../src/test-helpers/swtpm.js';

// The built command, as a production line runs it (`npm test` builds before testing).
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

let tpm: Swtpm;
let token: SoftHsmToken;
const root = mkdtempSync(path.join(tmpdir(), 'trustlink-agent-cli-'));

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  tpm = await startSwtpm();
  token = createSoftHsmToken('cli-test', '2468');
});
afterAll(async () => {
  await tpm?.stop();
  token?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
/** Writes a configuration file in its own directory; returns its path and state directory. */
function configWith(keyStore: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const dir = path.join(root, `c${++n}`);
  const file = path.join(dir, 'agent.json');
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(
    file,
    JSON.stringify({
      platformUrl: 'https://devices.example.test:8444',
      rootCaFile: 'root.pem',
      stateDir: 'state',
      keyStore,
      ...extra,
    }),
  );
  return { file, stateDir: path.join(dir, 'state') };
}

function agent(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('trustlink-agent CLI', () => {
  it('ok/manufacture on a TPM: create, then idempotent; id and csr agree', () => {
    const { file, stateDir } = configWith({ type: 'tpm', tcti: tpm.tcti });
    expect(agent(['id', '--config', file]).code).toBe(EXIT.noIdentity);

    const first = agent(['manufacture', '--config', file]);
    expect(first.code).toBe(EXIT.ok);
    expect(first.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(first.stderr).toBe('');
    const id = first.stdout.trim();

    const second = agent(['manufacture', '--config', file]);
    expect(second.code).toBe(EXIT.ok);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toMatch(
      /identity key already exists .*persistent handle 0x81010002.*nothing replaced/,
    );

    const state = JSON.parse(readFileSync(path.join(stateDir, 'identity.json'), 'utf8'));
    expect(state).toMatchObject({
      version: 1,
      deviceId: id,
      keyType: 'P-256',
      keyStore: { type: 'tpm', persistentHandle: '0x81010002' },
    });
    expectNoPrivateKeyFiles(stateDir);

    expect(agent(['id', '--config', file])).toMatchObject({ code: 0, stdout: `${id}\n` });
    const csr = agent(['csr', '--config', file]);
    expect(csr.code).toBe(0);
    expect(opensslVerifyCsr(csr.stdout)).toContain(`CN = ${id}`);
    const named = agent(['csr', '--config', file, '--cn', 'line-7-test']);
    expect(opensslVerifyCsr(named.stdout)).toContain('CN = line-7-test');
  });

  it('ok/config file from TRUSTLINK_AGENT_CONFIG; PKCS#11 PIN from the environment', () => {
    const { file, stateDir } = configWith({
      type: 'pkcs11',
      module: token.module,
      tokenLabel: token.tokenLabel,
    });
    const env = {
      ...token.env,
      TRUSTLINK_AGENT_CONFIG: file,
      TRUSTLINK_AGENT_PKCS11_PIN: token.pin,
    };
    const made = agent(['manufacture'], env);
    expect(made).toMatchObject({ code: 0, stderr: '' });
    expect(agent(['id'], env).stdout).toBe(made.stdout);
    expectNoPrivateKeyFiles(stateDir);
  });

  it('ok/the file key store warns at every start', () => {
    const { file } = configWith({ type: 'file' });
    for (const cmd of ['manufacture', 'id']) {
      const r = agent([cmd, '--config', file]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/warning: .*for development only/);
    }
  });

  const failures: [string, () => { args: string[]; env?: NodeJS.ProcessEnv }, number, RegExp][] = [
    [
      'fail/missing config file',
      () => ({ args: ['manufacture', '--config', path.join(root, 'none.json')] }),
      EXIT.config,
      /cannot read/,
    ],
    [
      'fail/invalid option named',
      () => ({
        args: [
          'manufacture',
          '--config',
          configWith({ type: 'tpm', persistentHandle: '0x1' }).file,
        ],
      }),
      EXIT.config,
      /keyStore\.persistentHandle: must be a persistent handle/,
    ],
    [
      'fail/PKCS#11 PIN not set',
      () => ({
        args: [
          'manufacture',
          '--config',
          configWith({ type: 'pkcs11', module: token.module, tokenLabel: token.tokenLabel }).file,
        ],
        env: token.env,
      }),
      EXIT.config,
      /keyStore\.pinEnv/,
    ],
    [
      'fail/TPM not reachable',
      () => ({
        args: [
          'manufacture',
          '--config',
          configWith({ type: 'tpm', tcti: 'swtpm:host=127.0.0.1,port=1' }).file,
        ],
      }),
      EXIT.keyStoreUnavailable,
      /TPM not reachable/,
    ],
    [
      'fail/PKCS#11 PIN refused',
      () => ({
        args: [
          'manufacture',
          '--config',
          configWith({ type: 'pkcs11', module: token.module, tokenLabel: token.tokenLabel }).file,
        ],
        env: { ...token.env, TRUSTLINK_AGENT_PKCS11_PIN: '1111' },
      }),
      EXIT.keyStoreUnavailable,
      /refused the user PIN/,
    ],
    [
      'fail/no key yet for csr',
      () => ({ args: ['csr', '--config', configWith({ type: 'file' }).file] }),
      EXIT.noIdentity,
      /manufacture/,
    ],
    ['fail/unknown command', () => ({ args: ['fabricate'] }), EXIT.usage, /unknown command/],
    [
      'fail/unknown option',
      () => ({ args: ['id', '--pin', '1234'] }),
      EXIT.usage,
      /unknown option/,
    ],
  ];
  for (const [name, make, code, message] of failures) {
    it(name, () => {
      const { args, env } = make();
      const r = agent(args, env);
      expect(r.code).toBe(code);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
    });
  }

  it('fail/a key file others can read is refused (exit 5) and kept', () => {
    const { file, stateDir } = configWith({ type: 'file' });
    expect(agent(['manufacture', '--config', file]).code).toBe(0);
    const keyFile = path.join(stateDir, 'identity-key.pem');
    chmodSync(keyFile, 0o644);
    const before = readFileSync(keyFile);
    const r = agent(['manufacture', '--config', file]);
    expect(r.code).toBe(EXIT.keyStoreRefused);
    expect(r.stderr).toMatch(/mode 0644: refusing/);
    expect(readFileSync(keyFile).equals(before)).toBe(true);
  });
});
