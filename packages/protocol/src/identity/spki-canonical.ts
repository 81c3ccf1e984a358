import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  type DerFailure,
  DerError,
  TAG,
  encodeTlv,
  encodeUnsignedInteger,
  readChildren,
  readOne,
  readUnsignedInteger,
} from '../encoding/der.js';
import { type Result, fail } from '../result.js';
import type { KeyType } from './key-types.js';

/** Why a SubjectPublicKeyInfo was refused. */
export type SpkiFailure =
  | DerFailure
  | 'malformed'
  | 'unsupported-algorithm'
  | 'missing-curve'
  | 'explicit-curve-parameters'
  | 'unsupported-curve'
  | 'bit-string-padding'
  | 'compressed-point'
  | 'hybrid-point'
  | 'bad-point'
  | 'point-not-on-curve'
  | 'missing-null-parameters'
  | 'bad-parameters'
  | 'unsupported-key-size'
  | 'bad-modulus'
  | 'bad-exponent'
  | 'not-canonical';

/** A public key that passed every check; `spki` is its one canonical DER encoding. */
export interface CanonicalKey {
  keyType: KeyType;
  spki: Buffer;
  key: KeyObject;
}

const hex = (h: string) => Buffer.from(h, 'hex');
const OID_EC_PUBLIC_KEY = hex('2a8648ce3d0201');
const OID_RSA_ENCRYPTION = hex('2a864886f70d010101');
const CURVES: { oid: Buffer; keyType: KeyType; size: number; node: string }[] = [
  { oid: hex('2a8648ce3d030107'), keyType: 'P-256', size: 32, node: 'prime256v1' },
  { oid: hex('2b81040022'), keyType: 'P-384', size: 48, node: 'secp384r1' },
];
const RSA_SIZES: Record<number, KeyType> = { 2048: 'RSA-2048', 3072: 'RSA-3072' };

class SpkiError extends Error {
  constructor(
    readonly reason: SpkiFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Checks that `spki` is the canonical DER SubjectPublicKeyInfo of an accepted key type and
 * returns the key. Canonical means: EC as id-ecPublicKey with a named-curve OID (P-256, P-384) and
 * an uncompressed point on the curve; RSA as rsaEncryption with NULL parameters, a 2048- or
 * 3072-bit modulus and minimal integers; strict DER with nothing after it. Every other encoding
 * of a key is refused, so one key has exactly one encoding and hence one device ID.
 * `decoded`: the key as OpenSSL already decoded it from exactly these bytes (see toKeyObject).
 */
export function parseCanonicalSpki(
  spki: Uint8Array,
  decoded?: KeyObject,
): Result<CanonicalKey, SpkiFailure> {
  const der = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength);
  try {
    const [algorithm, subjectPublicKey, ...rest] = readChildren(readOne(der, TAG.sequence));
    if (!algorithm || !subjectPublicKey || rest.length > 0) {
      throw new SpkiError('malformed', 'SubjectPublicKeyInfo must have exactly two fields');
    }
    const [oid, params, ...more] = readChildren(algorithm);
    if (!oid || oid.tag !== TAG.oid || more.length > 0) {
      throw new SpkiError('malformed', 'AlgorithmIdentifier is malformed');
    }
    if (subjectPublicKey.tag !== TAG.bitString) {
      throw new SpkiError('malformed', 'subjectPublicKey is not a BIT STRING');
    }
    if (subjectPublicKey.contents[0] !== 0) {
      throw new SpkiError('bit-string-padding', 'subjectPublicKey has unused bits');
    }
    const keyBytes = subjectPublicKey.contents.subarray(1);
    let parsed: { keyType: KeyType; canonical: Buffer };
    if (oid.contents.equals(OID_EC_PUBLIC_KEY)) parsed = parseEc(params, keyBytes);
    else if (oid.contents.equals(OID_RSA_ENCRYPTION)) parsed = parseRsa(params, keyBytes);
    else
      throw new SpkiError(
        'unsupported-algorithm',
        `key algorithm ${oidText(oid.contents)} is not accepted`,
      );
    // Backstop: the checks above should leave exactly one encoding; prove it byte for byte.
    if (!parsed.canonical.equals(der)) {
      throw new SpkiError('not-canonical', 'the key is not in its canonical encoding');
    }
    return {
      ok: true,
      keyType: parsed.keyType,
      spki: Buffer.from(der),
      key: toKeyObject(der, parsed.keyType, decoded),
    };
  } catch (e) {
    if (e instanceof SpkiError || e instanceof DerError) return fail(e.reason, e.message);
    throw e;
  }
}

function parseEc(params: { tag: number; contents: Buffer } | undefined, point: Buffer) {
  if (!params || params.tag === TAG.null) {
    throw new SpkiError('missing-curve', 'EC key without a named curve');
  }
  if (params.tag === TAG.sequence) {
    throw new SpkiError(
      'explicit-curve-parameters',
      'EC key with explicit curve parameters; use the named-curve OID',
    );
  }
  if (params.tag !== TAG.oid)
    throw new SpkiError('bad-parameters', 'EC parameters are not a curve OID');
  const curve = CURVES.find((c) => c.oid.equals(params.contents));
  if (!curve)
    throw new SpkiError(
      'unsupported-curve',
      `curve ${oidText(params.contents)} is not accepted (P-256, P-384)`,
    );
  const form = point[0];
  if (form === 0x02 || form === 0x03) {
    throw new SpkiError('compressed-point', 'EC point is compressed; send it uncompressed');
  }
  if (form === 0x06 || form === 0x07)
    throw new SpkiError('hybrid-point', 'EC point in hybrid form');
  if (form !== 0x04 || point.length !== 1 + 2 * curve.size) {
    throw new SpkiError('bad-point', `EC point must be 0x04 followed by ${2 * curve.size} bytes`);
  }
  const canonical = encodeTlv(
    TAG.sequence,
    encodeTlv(TAG.sequence, encodeTlv(TAG.oid, OID_EC_PUBLIC_KEY), encodeTlv(TAG.oid, curve.oid)),
    encodeTlv(TAG.bitString, Buffer.from([0]), point),
  );
  return { keyType: curve.keyType, canonical };
}

function parseRsa(params: { tag: number; contents: Buffer } | undefined, keyBytes: Buffer) {
  if (!params)
    throw new SpkiError('missing-null-parameters', 'rsaEncryption without NULL parameters');
  if (params.tag !== TAG.null || params.contents.length !== 0) {
    throw new SpkiError('bad-parameters', 'rsaEncryption parameters must be NULL');
  }
  const [nTlv, eTlv, ...rest] = readChildren(readOne(keyBytes, TAG.sequence));
  if (!nTlv || !eTlv || rest.length > 0) {
    throw new SpkiError('malformed', 'RSAPublicKey must have exactly two integers');
  }
  const n = readUnsignedInteger(nTlv);
  const e = readUnsignedInteger(eTlv);
  const bits = bitLength(n);
  const keyType = RSA_SIZES[bits];
  if (!keyType)
    throw new SpkiError('unsupported-key-size', `RSA-${bits} is not accepted (2048, 3072)`);
  if (!(n[n.length - 1]! & 1)) throw new SpkiError('bad-modulus', 'RSA modulus is even');
  // FIPS 186-5: 2^16 < e < 2^256 and odd; TPMs and OpenSSL use 65537.
  if (!(e[e.length - 1]! & 1) || bitLength(e) < 17 || bitLength(e) > 256) {
    throw new SpkiError(
      'bad-exponent',
      'RSA public exponent must be odd and between 2^16 and 2^256',
    );
  }
  const canonical = encodeTlv(
    TAG.sequence,
    encodeTlv(TAG.sequence, encodeTlv(TAG.oid, OID_RSA_ENCRYPTION), encodeTlv(TAG.null)),
    encodeTlv(
      TAG.bitString,
      Buffer.from([0]),
      encodeTlv(TAG.sequence, encodeUnsignedInteger(n), encodeUnsignedInteger(e)),
    ),
  );
  return { keyType, canonical };
}

/**
 * Hands the key to OpenSSL, which also checks that an EC point lies on its curve. An EC key
 * OpenSSL already decoded from these bytes (the public key of a certificate it parsed, which
 * carries them) is used instead once its point is shown to be this SPKI's: decoding the same
 * DER again is the slowest step of the check (about 110 µs; the comparison about 30).
 */
function toKeyObject(der: Buffer, keyType: KeyType, decoded?: KeyObject): KeyObject {
  let key: KeyObject;
  const curve = CURVES.find((c) => c.keyType === keyType);
  if (decoded && curve) {
    if (!isThisPoint(decoded, der, curve.keyType, curve.size))
      throw new SpkiError('not-canonical', 'the decoded key is not this SubjectPublicKeyInfo');
    return decoded;
  }
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    throw keyType.startsWith('P-')
      ? new SpkiError('point-not-on-curve', 'EC point is not on the curve')
      : new SpkiError('bad-modulus', 'RSA key refused by the crypto library');
  }
  const d = key.asymmetricKeyDetails;
  const agrees = curve
    ? d?.namedCurve === curve.node
    : d?.modulusLength === Number(keyType.slice(4));
  if (!agrees) throw new SpkiError('not-canonical', 'the crypto library reads the key differently');
  return key;
}

/** Whether an EC key object is on `keyType`'s curve with the point at the end of canonical `der`. */
function isThisPoint(key: KeyObject, der: Buffer, keyType: KeyType, size: number): boolean {
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ec') return false;
  const jwk = key.export({ format: 'jwk' });
  const xy = der.subarray(der.length - 2 * size);
  return (
    jwk.crv === keyType &&
    jwk.x === xy.subarray(0, size).toString('base64url') &&
    jwk.y === xy.subarray(size).toString('base64url')
  );
}

function bitLength(magnitude: Buffer): number {
  if (magnitude.length === 0 || (magnitude.length === 1 && magnitude[0] === 0)) return 0;
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]!));
}

/** Dotted form of an OID, for messages only. */
function oidText(contents: Buffer): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of contents) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  if (parts.length === 0) return '(empty)';
  const first = parts[0]!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts.slice(1)].join('.');
}
