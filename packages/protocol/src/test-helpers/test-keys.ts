/** The fixed keys of test-vectors/keys.json, so unit tests need not generate RSA keys. */
import { type KeyObject, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

interface StoredKey {
  keyType: string;
  pkcs8Pem: string;
  spkiHex: string;
}

/** Reads one JSON file of test-vectors/. */
export function readVectors<T>(name: string): T {
  return JSON.parse(
    readFileSync(new URL(`../../test-vectors/${name}`, import.meta.url), 'utf8'),
  ) as T;
}

const keys = readVectors<{ keys: Record<string, StoredKey> }>('keys.json').keys;

/** A stored key by name (`device-P-256`, `signing-RSA-3072`, `other-Ed25519`, ...). */
export function testKey(name: string): { privateKey: KeyObject; spki: Buffer } {
  const k = keys[name];
  if (!k) throw new Error(`no test key ${name}`);
  return { privateKey: createPrivateKey(k.pkcs8Pem), spki: Buffer.from(k.spkiHex, 'hex') };
}
