import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A throwaway SoftHSM2 token in its own token directory. */
export interface SoftHsmToken {
  module: string;
  tokenLabel: string;
  pin: string;
  /** Environment that points SoftHSM2 at this token directory (SOFTHSM2_CONF). */
  env: { SOFTHSM2_CONF: string };
  dir: string;
  cleanup(): void;
}

const MODULES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
];

/** The SoftHSM2 module installed on this machine. */
export function softHsmModule(): string {
  const found = MODULES.find((m) => existsSync(m));
  if (!found) throw new Error('SoftHSM2 is not installed (apt-get install softhsm2)');
  return found;
}

/** Creates a SoftHSM2 configuration with its own token directory and initialises one token. */
export function createSoftHsmToken(tokenLabel = 'trustlink-test', pin = '1234'): SoftHsmToken {
  const dir = mkdtempSync(path.join(tmpdir(), 'trustlink-softhsm-'));
  mkdirSync(path.join(dir, 'tokens'));
  const conf = path.join(dir, 'softhsm2.conf');
  writeFileSync(
    conf,
    `directories.tokendir = ${path.join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  const env = { SOFTHSM2_CONF: conf };
  execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', tokenLabel, '--pin', pin, '--so-pin', `${pin}-so`],
    { env: { ...process.env, ...env }, stdio: 'pipe' },
  );
  return {
    module: softHsmModule(),
    tokenLabel,
    pin,
    env,
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
