import { type KeyObject, constants, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import {
  DerError,
  TAG,
  encodeTlv,
  encodeUnsignedInteger,
  readChildren,
  readOne,
  readUnsignedInteger,
} from '../encoding/der.js';
import { type KeyType, type SignatureScheme, type Signer, signatureUnitSize } from './key-types.js';

/** How an ECDSA signature is laid out: DER (X.509, key stores, proofs) or r||s (JOSE). */
export type EcdsaEncoding = 'der' | 'raw';

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;

function hashOf(scheme: SignatureScheme): 'sha256' | 'sha384' {
  return scheme === 'ecdsa-sha384' ? 'sha384' : 'sha256';
}

/**
 * Checks a signature made with exactly `scheme` (never a scheme the signature claims). ECDSA in
 * DER must be strict minimal DER; r||s must be exactly twice the curve size. RSA-PSS must use a
 * 32-byte salt.
 */
export function verifySignature(
  key: KeyObject,
  keyType: KeyType,
  scheme: SignatureScheme,
  data: Uint8Array,
  signature: Uint8Array,
  ecdsaEncoding: EcdsaEncoding = 'der',
): boolean {
  const size = signatureUnitSize(keyType);
  if (scheme.startsWith('ecdsa')) {
    if (ecdsaEncoding === 'raw') {
      if (signature.length !== 2 * size) return false;
      return nodeVerify(hashOf(scheme), data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    try {
      parseEcdsaDer(signature, size);
    } catch {
      return false;
    }
    return nodeVerify(hashOf(scheme), data, { key, dsaEncoding: 'der' }, signature);
  }
  if (signature.length !== size) return false;
  return nodeVerify('sha256', data, { key, ...PSS }, signature);
}

/** Splits a strict DER ECDSA signature into r and s (each 1..size bytes, non-zero). */
export function parseEcdsaDer(der: Uint8Array, size: number): { r: Buffer; s: Buffer } {
  const [rTlv, sTlv, ...rest] = readChildren(readOne(Buffer.from(der), TAG.sequence));
  if (!rTlv || !sTlv || rest.length > 0)
    throw new DerError('unexpected-tag', 'ECDSA signature must be SEQUENCE { r, s }');
  const r = readUnsignedInteger(rTlv);
  const s = readUnsignedInteger(sTlv);
  for (const v of [r, s]) {
    if (v.length > size || (v.length === 1 && v[0] === 0)) {
      throw new DerError('unexpected-tag', 'ECDSA signature value out of range');
    }
  }
  return { r, s };
}

/** Converts a DER ECDSA signature (as key stores and TPMs return it) to JOSE r||s. */
export function ecdsaDerToRaw(der: Uint8Array, keyType: KeyType): Buffer {
  const size = signatureUnitSize(keyType);
  const { r, s } = parseEcdsaDer(der, size);
  const out = Buffer.alloc(2 * size);
  r.copy(out, size - r.length);
  s.copy(out, 2 * size - s.length);
  return out;
}

/** Converts a JOSE r||s ECDSA signature (as some TPM tools print it) to DER. */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0)
    throw new RangeError('r||s must have an even length');
  const half = raw.length / 2;
  return encodeTlv(
    TAG.sequence,
    encodeUnsignedInteger(raw.subarray(0, half)),
    encodeUnsignedInteger(raw.subarray(half)),
  );
}

/**
 * Checks what a signer returned before it goes on the wire, so a signer that gives r||s where DER
 * is due (a common TPM tool mistake) fails loudly at the signer, not later as "bad signature".
 */
export function checkSignerOutput(
  keyType: KeyType,
  scheme: SignatureScheme,
  sig: Uint8Array,
): void {
  const size = signatureUnitSize(keyType);
  if (scheme.startsWith('ecdsa')) {
    try {
      parseEcdsaDer(sig, size);
    } catch {
      throw new RangeError(
        `the signer must return a DER ECDSA signature (use ecdsaRawToDer for r||s)`,
      );
    }
  } else if (sig.length !== size) {
    throw new RangeError(
      `the signer returned ${sig.length} bytes; ${keyType} signatures have ${size}`,
    );
  }
}

/**
 * A {@link Signer} over a Node private key: for tests, the vectors and the agent's development
 * identity kept in a file. Production identities sign in a TPM or secure element instead.
 */
export function nodeKeySigner(privateKey: KeyObject): Signer {
  const keyType = keyTypeOfKeyObject(privateKey);
  if (!keyType) throw new RangeError('the key is not one of P-256, P-384, RSA-2048, RSA-3072');
  return {
    keyType,
    async sign(data, scheme) {
      if (scheme.startsWith('ecdsa'))
        return nodeSign(hashOf(scheme), data, { key: privateKey, dsaEncoding: 'der' });
      return nodeSign('sha256', data, { key: privateKey, ...PSS });
    },
  };
}

/** The key type of a Node key (public or private), or undefined if it is not an accepted one. */
export function keyTypeOfKeyObject(key: KeyObject): KeyType | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    return d?.namedCurve === 'prime256v1'
      ? 'P-256'
      : d?.namedCurve === 'secp384r1'
        ? 'P-384'
        : undefined;
  }
  if (key.asymmetricKeyType === 'rsa') {
    return d?.modulusLength === 2048
      ? 'RSA-2048'
      : d?.modulusLength === 3072
        ? 'RSA-3072'
        : undefined;
  }
  return undefined;
}
