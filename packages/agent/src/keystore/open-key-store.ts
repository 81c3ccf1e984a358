import { readFileSync } from 'node:fs';
import type { AgentConfig, Pkcs11KeyStoreConfig } from '../config/agent-config-schema.js';
import { ConfigError } from '../config/agent-config.js';
import { createFileKeyStore } from './file/file-key-store.js';
import type { IdentityKeyStore } from './key-store-types.js';
import { createPkcs11KeyStore } from './pkcs11/pkcs11-key-store.js';
import { createTpm2Runner } from './tpm/tpm2-runner.js';
import { createTpmKeyStore } from './tpm/tpm-key-store.js';

/** TCTI used when neither the configuration nor TPM2TOOLS_TCTI names one. */
export const DEFAULT_TCTI = 'device:/dev/tpmrm0';

export interface KeyStoreDeps {
  env: NodeJS.ProcessEnv;
  /** Where warnings go (standard error in the CLI). */
  warn(message: string): void;
}

/** The user PIN: first line of `pinFile`, else the variable named by `pinEnv`. */
export function pkcs11Pin(ks: Pkcs11KeyStoreConfig, env: NodeJS.ProcessEnv): string {
  if (ks.pinFile) {
    try {
      return readFileSync(ks.pinFile, 'utf8').split(/\r?\n/)[0] ?? '';
    } catch (err) {
      throw new ConfigError(
        `configuration: keyStore.pinFile: cannot read ${ks.pinFile}: ${(err as Error).message}`,
      );
    }
  }
  const pin = env[ks.pinEnv];
  if (!pin) {
    throw new ConfigError(
      `configuration: keyStore.pinEnv: ${ks.pinEnv} is not set (or set keyStore.pinFile)`,
    );
  }
  return pin;
}

/** Opens the key store the configuration names. Nothing touches the key until it is asked. */
export function openKeyStore(config: Readonly<AgentConfig>, deps: KeyStoreDeps): IdentityKeyStore {
  const ks = config.keyStore;
  switch (ks.type) {
    case 'tpm': {
      const tcti = ks.tcti ?? (deps.env.TPM2TOOLS_TCTI || DEFAULT_TCTI);
      const { type: _type, tcti: _tcti, ...rest } = ks;
      return createTpmKeyStore({ ...rest, blobDir: config.stateDir }, createTpm2Runner(tcti));
    }
    case 'pkcs11': {
      const { type: _type, pinFile: _f, pinEnv: _e, ...rest } = ks;
      return createPkcs11KeyStore({ ...rest, pin: () => pkcs11Pin(ks, deps.env) });
    }
    case 'file':
      return createFileKeyStore({ path: ks.path!, keyType: ks.keyType }, deps);
  }
}
