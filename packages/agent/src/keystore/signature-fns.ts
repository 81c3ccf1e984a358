import { constants, createHash, createPublicKey, verify } from 'node:crypto';
import type { KeyType, SignatureScheme } from './key-store-types.js';

/** The hash a scheme signs over. */
export function hashOfScheme(scheme: SignatureScheme): 'sha256' | 'sha384' {
  return scheme === 'ecdsa-sha384' ? 'sha384' : 'sha256';
}

/** Digest of the message for a scheme (TPM and PKCS#11 tokens are handed the digest). */
export function digestFor(scheme: SignatureScheme, data: Buffer): Buffer {
  return createHash(hashOfScheme(scheme)).update(data).digest();
}

/**
 * Whether a scheme may be used with a key type. ECDSA is bound to the curve's own hash (as the
 * protocol requires), so a P-256 key never signs with SHA-384 or the reverse.
 */
export function schemeFitsKeyType(scheme: SignatureScheme, keyType: KeyType): boolean {
  if (keyType === 'P-256') return scheme === 'ecdsa-sha256';
  if (keyType === 'P-384') return scheme === 'ecdsa-sha384';
  return scheme === 'rsa-pss-sha256' || scheme === 'rsa-pkcs1-sha256';
}

/** Throws a clear error when a scheme does not fit the key. */
export function assertSchemeFits(scheme: SignatureScheme, keyType: KeyType): void {
  if (!schemeFitsKeyType(scheme, keyType)) {
    throw new Error(`signature scheme ${scheme} does not fit a ${keyType} identity key`);
  }
}

/** DER INTEGER of an unsigned big-endian value (minimal, with a 0x00 when the top bit is set). */
function derInteger(value: Buffer): Buffer {
  const first = value.findIndex((b) => b !== 0);
  let v = first === -1 ? Buffer.from([0]) : value.subarray(first);
  if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return Buffer.concat([Buffer.from([0x02]), derLength(v.length), v]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

/** ECDSA signature from its two integers r and s to DER (Ecdsa-Sig-Value). */
export function ecdsaDerFromRS(r: Buffer, s: Buffer): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

/** ECDSA signature from r || s (PKCS#11, WebCrypto, JOSE) to DER. */
export function ecdsaRawToDer(raw: Buffer): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw new Error(`ECDSA r||s signature has an odd length (${raw.length})`);
  }
  const half = raw.length / 2;
  return ecdsaDerFromRS(raw.subarray(0, half), raw.subarray(half));
}

const DIGEST_INFO_PREFIX = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
};

/** PKCS#1 v1.5 DigestInfo around a digest (what CKM_RSA_PKCS signs). */
export function pkcs1DigestInfo(hash: 'sha256' | 'sha384', digest: Buffer): Buffer {
  return Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
}

/** Salt length of RSA-PSS signatures, fixed by the protocol. */
export const PSS_SALT_LENGTH = 32;

/**
 * Verifies a signature against the SPKI. Key stores check every signature they return, so a
 * token that signs differently (a TPM with another PSS salt length) fails loudly here rather
 * than at the server.
 */
export function verifySignature(
  spkiDer: Buffer,
  data: Buffer,
  scheme: SignatureScheme,
  signature: Buffer,
): boolean {
  const key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  const hash = hashOfScheme(scheme);
  if (scheme === 'rsa-pss-sha256') {
    return verify(
      hash,
      data,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH },
      signature,
    );
  }
  return verify(hash, data, key, signature);
}
