import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  constants,
  type KeyObject,
} from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir, createFileExclusive } from '../../state/atomic-file.js';
import {
  KeyStoreRefusedError,
  KeyStoreUnavailableError,
  NoIdentityKeyError,
} from '../key-store-errors.js';
import type {
  IdentityKeyResult,
  IdentityKeyStore,
  IdentityPublicKey,
  KeyType,
  SignatureScheme,
} from '../key-store-types.js';
import { assertSchemeFits, hashOfScheme, PSS_SALT_LENGTH } from '../signature-fns.js';
import { canonicalPublicKey } from '../spki-fns.js';

export interface FileKeyStoreOptions {
  path: string;
  keyType: KeyType;
}

/** The warning every start with a file key store prints. */
export const FILE_KEY_STORE_WARNING =
  'warning: the identity key is a file (keyStore.type "file"): for development only, use a TPM or a PKCS#11 token on real devices';

function generate(keyType: KeyType): KeyObject {
  if (keyType === 'P-256' || keyType === 'P-384') {
    return generateKeyPairSync('ec', { namedCurve: keyType }).privateKey;
  }
  return generateKeyPairSync('rsa', { modulusLength: keyType === 'RSA-2048' ? 2048 : 3072 })
    .privateKey;
}

/**
 * Development key store: a PKCS#8 PEM file, mode 0600. A file that others could read (or that
 * another user owns) is refused, as ssh refuses such keys.
 */
export function createFileKeyStore(
  opts: FileKeyStoreOptions,
  deps: { warn(message: string): void },
): IdentityKeyStore {
  deps.warn(FILE_KEY_STORE_WARNING);

  function load(): KeyObject | null {
    let st;
    try {
      st = statSync(opts.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      throw new KeyStoreUnavailableError(`key file ${opts.path}: ${(err as Error).message}`);
    }
    if (!st.isFile()) throw new KeyStoreRefusedError(`key file ${opts.path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new KeyStoreRefusedError(
        `key file ${opts.path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: refusing a key others can read or write (chmod 600)`,
      );
    }
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) {
      throw new KeyStoreRefusedError(
        `key file ${opts.path} belongs to uid ${st.uid}, not to this user (${uid})`,
      );
    }
    try {
      return createPrivateKey(readFileSync(opts.path));
    } catch (err) {
      throw new KeyStoreRefusedError(
        `key file ${opts.path} holds no usable private key: ${(err as Error).message}`,
      );
    }
  }

  function publicOf(key: KeyObject): IdentityPublicKey {
    try {
      return canonicalPublicKey(createPublicKey(key).export({ type: 'spki', format: 'der' }));
    } catch (err) {
      throw new KeyStoreRefusedError(`key file ${opts.path}: ${(err as Error).message}`);
    }
  }

  return {
    type: 'file',
    async getOrCreateIdentityKey(): Promise<IdentityKeyResult> {
      const existing = load();
      if (existing) return { ...publicOf(existing), created: false };
      ensurePrivateDir(path.dirname(opts.path));
      const key = generate(opts.keyType);
      const pem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
      // Exclusive creation: a key another process wrote in the meantime wins, never ours.
      if (!createFileExclusive(opts.path, pem, 0o600)) {
        return { ...publicOf(load()!), created: false };
      }
      return { ...publicOf(key), created: true };
    },
    async publicKey() {
      const key = load();
      return key ? publicOf(key) : null;
    },
    async sign(data: Buffer, scheme: SignatureScheme): Promise<Buffer> {
      const key = load();
      if (!key) throw new NoIdentityKeyError();
      assertSchemeFits(scheme, publicOf(key).keyType);
      if (scheme === 'rsa-pss-sha256') {
        return sign(hashOfScheme(scheme), data, {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: PSS_SALT_LENGTH,
        });
      }
      return sign(hashOfScheme(scheme), data, key);
    },
    describe() {
      return { summary: `file ${opts.path} (development only)`, reference: { path: opts.path } };
    },
  };
}
