import { createPublicKey, type KeyObject } from 'node:crypto';
import type { KeyType } from './key-store-types.js';

const CURVES: Record<string, { keyType: KeyType; size: number; jwk: 'P-256' | 'P-384' }> = {
  prime256v1: { keyType: 'P-256', size: 32, jwk: 'P-256' },
  secp384r1: { keyType: 'P-384', size: 48, jwk: 'P-384' },
};

/** The key type of a public key, or undefined for one the protocol does not accept. */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') return CURVES[d?.namedCurve ?? '']?.keyType;
  if (key.asymmetricKeyType === 'rsa') {
    if (d?.modulusLength === 2048) return 'RSA-2048';
    if (d?.modulusLength === 3072) return 'RSA-3072';
  }
  return undefined;
}

/**
 * Re-encodes a public key the canonical way (EC: named curve, uncompressed point; RSA:
 * rsaEncryption with NULL parameters) and names its type. Throws for unsupported keys.
 */
export function canonicalPublicKey(spkiDer: Buffer): { spkiDer: Buffer; keyType: KeyType } {
  const key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  const keyType = keyTypeOf(key);
  if (!keyType) throw new Error('identity key type is not one of P-256, P-384, RSA-2048, RSA-3072');
  // EC keys go through JWK: OpenSSL would keep a compressed point compressed on export.
  const canonical =
    key.asymmetricKeyType === 'ec'
      ? createPublicKey({ key: key.export({ format: 'jwk' }), format: 'jwk' })
      : key;
  return { spkiDer: canonical.export({ type: 'spki', format: 'der' }), keyType };
}

/** SPKI of an EC public key given as its curve and uncompressed point (0x04 || X || Y). */
export function spkiFromEcPoint(keyType: 'P-256' | 'P-384', point: Buffer): Buffer {
  const curve = Object.values(CURVES).find((c) => c.keyType === keyType)!;
  if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) {
    throw new Error(
      `EC point of a ${keyType} key must be uncompressed (${1 + 2 * curve.size} bytes)`,
    );
  }
  const x = point.subarray(1, 1 + curve.size).toString('base64url');
  const y = point.subarray(1 + curve.size).toString('base64url');
  return createPublicKey({ key: { kty: 'EC', crv: curve.jwk, x, y }, format: 'jwk' }).export({
    type: 'spki',
    format: 'der',
  });
}

/** SPKI of an RSA public key given as big-endian modulus and exponent. */
export function spkiFromRsa(modulus: Buffer, exponent: Buffer): Buffer {
  const strip = (b: Buffer) => b.subarray(b.findIndex((v) => v !== 0));
  return createPublicKey({
    key: {
      kty: 'RSA',
      n: strip(modulus).toString('base64url'),
      e: strip(exponent).toString('base64url'),
    },
    format: 'jwk',
  }).export({ type: 'spki', format: 'der' });
}
