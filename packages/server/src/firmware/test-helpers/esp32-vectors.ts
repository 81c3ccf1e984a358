import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { expect } from 'vitest';
import { crc32 } from '../crc32-fns.js';
import {
  CRC_OFFSET,
  KEY_OFFSET,
  P256_KEY_SIZE,
  P256_SIGNATURE_SIZE,
  RSA_BYTES,
  RSA_KEY_SIZE,
  SECTOR_SIZE,
  SIG_BLOCK_SIZE,
  type Esp32KeyType,
} from '../esp32-sbv2-layout.js';

/** Espressif's reference vectors (see testdata/esp32-sbv2/README.md). */
export const ESP32_TESTDATA = fileURLToPath(new URL('../testdata/esp32-sbv2/', import.meta.url));

export const file = (name: string) => readFileSync(path.join(ESP32_TESTDATA, name));
export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();
export const spkiOf = (k: KeyObject) => createPublicKey(k).export({ type: 'spki', format: 'der' });

export interface Vector {
  keyType: Esp32KeyType;
  name: string;
  privateKey: KeyObject;
  spki: Buffer;
  reference: Buffer;
  efuseDigest: Buffer;
  /** Where the signature sits in a block. */
  sigStart: number;
  sigEnd: number;
}

export const app = file('app.bin');
export const vectors: Vector[] = (
  [
    ['RSA-3072', 'rsa3072', RSA_KEY_SIZE, RSA_BYTES],
    ['P-256', 'p256', P256_KEY_SIZE, P256_SIGNATURE_SIZE],
  ] as const
).map(([keyType, name, keySize, sigSize]) => ({
  keyType,
  name,
  privateKey: createPrivateKey(file(`test-${name}.key.pem`)),
  spki: createPublicKey(file(`test-${name}.pub.pem`)).export({ type: 'spki', format: 'der' }),
  reference: file(`app.signed-${name}.bin`),
  efuseDigest: file(`test-${name}.efuse-digest.bin`),
  sigStart: KEY_OFFSET + keySize,
  sigEnd: KEY_OFFSET + keySize + sigSize,
}));

/** Block `i` of the signature sector of a signed image (a view: writes go through). */
export const blockOf = (signed: Buffer, i = 0) => {
  const at = signed.length - SECTOR_SIZE + i * SIG_BLOCK_SIZE;
  return signed.subarray(at, at + SIG_BLOCK_SIZE);
};
export const flip = (b: Buffer, i: number, mask: number) => {
  b[i] = b[i]! ^ mask;
};
export const fixCrc = (block: Buffer) =>
  block.writeUInt32LE(crc32(block.subarray(0, CRC_OFFSET)), CRC_OFFSET);

/**
 * Proves `ours` follows Espressif's reference byte for byte except where randomness enters:
 * the signature field, and the CRC that covers it (which must still be right).
 */
export function expectSameAsReference(ours: Buffer, v: Vector) {
  expect(ours.length).toBe(v.reference.length);
  const sector = v.reference.length - SECTOR_SIZE;
  expect(ours.subarray(0, sector).equals(v.reference.subarray(0, sector))).toBe(true);
  const mine = blockOf(ours);
  const theirs = blockOf(v.reference);
  expect(mine.subarray(0, v.sigStart).equals(theirs.subarray(0, v.sigStart))).toBe(true);
  expect(mine.subarray(v.sigEnd, CRC_OFFSET).equals(theirs.subarray(v.sigEnd, CRC_OFFSET))).toBe(
    true,
  );
  expect(mine.readUInt32LE(CRC_OFFSET)).toBe(crc32(mine.subarray(0, CRC_OFFSET)));
  expect(mine.subarray(CRC_OFFSET + 4).equals(theirs.subarray(CRC_OFFSET + 4))).toBe(true);
  const tail = sector + SIG_BLOCK_SIZE;
  expect(ours.subarray(tail).equals(v.reference.subarray(tail))).toBe(true);
  // Randomised signatures: a collision would mean the signer is not randomising at all.
  expect(mine.subarray(v.sigStart, v.sigEnd).equals(theirs.subarray(v.sigStart, v.sigEnd))).toBe(
    false,
  );
}
