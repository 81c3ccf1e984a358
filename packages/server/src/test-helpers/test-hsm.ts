import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createPkcs11Backend } from '../keystore/pkcs11-backend.js';
import type { KeyBackend } from '../keystore/keystore-types.js';

/** Key store backends that key-store and issuance tests run against, like TEST_DIALECTS. */
export const TEST_KEY_BACKENDS = ['software', 'pkcs11'] as const;
export type TestKeyBackend = (typeof TEST_KEY_BACKENDS)[number];

/** Where Debian's softhsm2 package installs the module. */
export const SOFTHSM_MODULE =
  process.env.TRUSTLINK_TEST_SOFTHSM_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';

let confDir: string | undefined;

/**
 * The SoftHSM2 configuration of this test process: one temporary token directory, named by
 * SOFTHSM2_CONF (which the module reads at C_Initialize). Tokens made while the module is
 * initialised are seen after every user has released it (backends are closed in afterAll).
 */
function softHsmConf(): string {
  if (!confDir) {
    confDir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-softhsm-'));
    mkdirSync(path.join(confDir, 'tokens'));
    const conf = path.join(confDir, 'softhsm2.conf');
    writeFileSync(
      conf,
      `directories.tokendir = ${path.join(confDir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
    );
    process.env.SOFTHSM2_CONF = conf;
    process.on('exit', () => rmSync(confDir!, { recursive: true, force: true }));
  }
  return path.join(confDir, 'softhsm2.conf');
}

export interface TestToken {
  module: string;
  tokenLabel: string;
  pin: string;
  conf: string;
}

/** A new throwaway SoftHSM2 token, made with softhsm2-util. */
export function createSoftHsmToken(): TestToken {
  const conf = softHsmConf();
  const tokenLabel = `tl-${randomBytes(4).toString('hex')}`;
  const pin = randomBytes(4).toString('hex');
  execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', tokenLabel, '--pin', pin, '--so-pin', `so-${pin}`],
    { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'pipe' },
  );
  return { module: SOFTHSM_MODULE, tokenLabel, pin, conf };
}

/** The HSM backend for a test run: none for software, a fresh SoftHSM2 token for pkcs11. */
export function createTestHsm(kind: TestKeyBackend): {
  hsm?: KeyBackend & { close(): void };
  token?: TestToken;
} {
  if (kind === 'software') return {};
  const token = createSoftHsmToken();
  return {
    token,
    hsm: createPkcs11Backend({
      module: token.module,
      tokenLabel: token.tokenLabel,
      pin: token.pin,
    }),
  };
}
