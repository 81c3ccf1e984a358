/**
 * The fixed keys behind the test vectors. They are generated once and kept in
 * test-vectors/keys.json, so regenerating the vectors keeps every key (and every device ID and
 * signed-input byte) stable; only randomized signatures change.
 */
import {
  generateKeyPairSync,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

export interface StoredKey {
  /** What the key is; for refused types, the name of the algorithm. */
  keyType: string;
  pkcs8Pem: string;
  spkiHex: string;
}

const SPECS: Record<string, () => KeyObject> = {
  'device-P-256': () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  'device-P-384': () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
  'device-RSA-2048': () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  'device-RSA-3072': () => generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey,
  'signing-P-256': () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  'signing-P-384': () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
  'signing-RSA-3072': () => generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey,
  'other-secp256k1': () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey,
  'other-P-521': () => generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey,
  'other-RSA-1024': () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey,
  'other-RSA-4096': () => generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey,
  'other-Ed25519': () => generateKeyPairSync('ed25519').privateKey,
  'other-RSA-PSS': () => generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey,
};

function store(name: string, key: KeyObject): StoredKey {
  return {
    keyType: name.replace(/^(device|signing|other)-/, ''),
    pkcs8Pem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    spkiHex: createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('hex'),
  };
}

/** Loads the stored keys, generating any that are missing. */
export function loadOrCreateKeys(path: string): Record<string, StoredKey> {
  const existing = existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as { keys: Record<string, StoredKey> }).keys
    : {};
  const keys: Record<string, StoredKey> = {};
  for (const [name, make] of Object.entries(SPECS))
    keys[name] = existing[name] ?? store(name, make());
  return keys;
}

/** A stored key as a Node private key. */
export function privateKeyOf(key: StoredKey): KeyObject {
  return createPrivateKey(key.pkcs8Pem);
}
