import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { BadRequestError } from '../lib/errors.js';
import { CURVE_ID_P256, RSA_BYTES, type Esp32KeyType } from './esp32-sbv2-layout.js';

/**
 * The public key as a Secure Boot V2 block stores it, and its eFuse digest. For RSA the block
 * also carries two values the chip's RSA accelerator needs for Montgomery multiplication, which
 * espsecure pre-computes from the modulus n (see _get_sbv2_rsa_primitives in esptool):
 *   R  = 2^(2 * 3072) mod n     ("rinv" in espsecure)
 *   M' = -n^-1 mod 2^32
 * They are part of the hashed key, so they must be computed exactly like that.
 */

const RSA_R_EXPONENT = 2n * 3072n;
const WORD = 1n << 32n;

function bigFromB64u(s: string | undefined): bigint {
  if (!s) throw new Error('JWK component missing');
  return BigInt(`0x${Buffer.from(s, 'base64url').toString('hex') || '0'}`);
}

function bigToB64u(v: bigint): string {
  const hex = v.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
}

/** A non-negative integer as `size` little-endian bytes. */
function toLittleEndian(n: bigint, size: number): Buffer {
  const hex = n.toString(16).padStart(size * 2, '0');
  if (hex.length > size * 2) throw new Error('number too large for its field');
  return Buffer.from(hex, 'hex').reverse();
}

function fromLittleEndian(b: Buffer): bigint {
  return BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
}

/** -n^-1 mod 2^32 for odd n (Newton iteration: each step doubles the correct low bits). */
function montgomeryMPrime(n: bigint): bigint {
  const n0 = n % WORD;
  let inv = 1n;
  for (let i = 0; i < 5; i++) inv = (inv * (2n - n0 * inv)) % WORD;
  inv = ((inv % WORD) + WORD) % WORD;
  return (WORD - inv) % WORD;
}

function rsaKeyBlock(n: bigint, e: bigint): Buffer {
  if (e >= WORD) throw new Error('RSA exponent does not fit 32 bits');
  const r = (1n << RSA_R_EXPONENT) % n;
  const block = Buffer.alloc(RSA_BYTES * 2 + 8);
  toLittleEndian(n, RSA_BYTES).copy(block, 0);
  block.writeUInt32LE(Number(e), RSA_BYTES);
  toLittleEndian(r, RSA_BYTES).copy(block, RSA_BYTES + 4);
  block.writeUInt32LE(Number(montgomeryMPrime(n)), RSA_BYTES * 2 + 4);
  return block;
}

function keyObjectOf(spki: Buffer | KeyObject): KeyObject {
  if (!Buffer.isBuffer(spki)) return spki;
  try {
    return createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    throw new BadRequestError('not a DER SubjectPublicKeyInfo');
  }
}

/** The key type of an SPKI, if Secure Boot V2 supports it here (RSA-3072 or ECDSA P-256). */
export function esp32KeyTypeOf(spki: Buffer | KeyObject): Esp32KeyType | undefined {
  const key = keyObjectOf(spki);
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && d?.modulusLength === 3072) return 'RSA-3072';
  if (key.asymmetricKeyType === 'ec' && d?.namedCurve === 'prime256v1') return 'P-256';
  return undefined;
}

/**
 * The public key part of a signature block for this SPKI: n, e, R, M' (RSA-3072, 776 bytes) or
 * curve id, x, y (P-256, 65 bytes). Throws BadRequestError for other keys.
 */
export function esp32PublicKeyBlock(spki: Buffer | KeyObject): {
  keyType: Esp32KeyType;
  block: Buffer;
} {
  const key = keyObjectOf(spki);
  const keyType = esp32KeyTypeOf(key);
  if (!keyType) {
    throw new BadRequestError('ESP32 Secure Boot V2 keys must be RSA-3072 or ECDSA P-256');
  }
  const jwk = key.export({ format: 'jwk' });
  if (keyType === 'RSA-3072') {
    return { keyType, block: rsaKeyBlock(bigFromB64u(jwk.n), bigFromB64u(jwk.e)) };
  }
  const block = Buffer.alloc(65);
  block[0] = CURVE_ID_P256;
  toLittleEndian(bigFromB64u(jwk.x), 32).copy(block, 1);
  toLittleEndian(bigFromB64u(jwk.y), 32).copy(block, 33);
  return { keyType, block };
}

/**
 * The eFuse public key digest: SHA-256 of the key part of the signature block, the 32 bytes
 * `espefuse burn_key_digest` (or `espsecure digest_sbv2_public_key`) puts on the chip.
 */
export function esp32KeyDigest(spki: Buffer | KeyObject): Buffer {
  return createHash('sha256').update(esp32PublicKeyBlock(spki).block).digest();
}

/**
 * Rebuilds the public key from a block's key part. For RSA it also re-derives R and M' from n:
 * a block whose pre-computed values do not match its modulus is refused (the chip would use
 * them as given). Returns a reason string on failure.
 */
export function publicKeyFromBlock(
  keyType: Esp32KeyType,
  keyPart: Buffer,
): { ok: true; key: KeyObject } | { ok: false; reason: string } {
  let jwk: JsonWebKey;
  if (keyType === 'RSA-3072') {
    const n = fromLittleEndian(keyPart.subarray(0, RSA_BYTES));
    const e = BigInt(keyPart.readUInt32LE(RSA_BYTES));
    if (n % 2n === 0n || n >> 3071n !== 1n) {
      return { ok: false, reason: 'RSA modulus is not an odd 3072-bit number' };
    }
    if (!rsaKeyBlock(n, e).equals(keyPart)) {
      return { ok: false, reason: "pre-computed R or M' does not match the modulus" };
    }
    jwk = { kty: 'RSA', n: bigToB64u(n), e: bigToB64u(e) };
  } else {
    jwk = {
      kty: 'EC',
      crv: 'P-256',
      x: Buffer.from(keyPart.subarray(1, 33)).reverse().toString('base64url'),
      y: Buffer.from(keyPart.subarray(33, 65)).reverse().toString('base64url'),
    };
  }
  try {
    return { ok: true, key: createPublicKey({ key: jwk, format: 'jwk' }) };
  } catch {
    return { ok: false, reason: 'the public key in the block is not a valid key' };
  }
}
