import { createHash } from 'node:crypto';
import {
  DerError,
  TAG,
  bodyOf,
  bytesOf,
  children,
  expectTag,
  integerBody,
  readRoot,
} from './der-fns.js';

/** Key types a device identity may have (PROTOCOL.md); a policy narrows the list. */
export const DEVICE_KEY_TYPES = ['P-256', 'P-384', 'RSA-2048', 'RSA-3072'] as const;
export type DeviceKeyType = (typeof DEVICE_KEY_TYPES)[number];

/** A device public key that passed the canonical-encoding check. */
export interface DeviceKey {
  type: DeviceKeyType;
  /** The canonical DER SubjectPublicKeyInfo (the input, which had to be canonical). */
  spkiDer: Buffer;
  /** The contents of the subjectPublicKey BIT STRING (what RFC 5280 key ids hash). */
  publicKeyBits: Buffer;
  /** EC: the uncompressed point (04 || X || Y). */
  ecPoint?: Buffer;
  /** RSA: modulus and public exponent as unsigned big-endian bytes. */
  rsa?: { n: Buffer; e: Buffer };
  /** Lowercase hex SHA-256 of spkiDer: the device ID. */
  deviceId: string;
}

// The exact DER prefixes of canonical EC keys: SEQUENCE { SEQUENCE { id-ecPublicKey,
// namedCurve }, BIT STRING (0 unused bits) 04 || X || Y }.
const EC_PREFIX = {
  'P-256': Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex'),
  'P-384': Buffer.from('3076301006072a8648ce3d020106052b8104002203620004', 'hex'),
} as const;
const EC_POINT_LEN = { 'P-256': 65, 'P-384': 97 } as const;
const ID_EC_PUBLIC_KEY = Buffer.from('06072a8648ce3d0201', 'hex');
/** AlgorithmIdentifier { rsaEncryption, NULL }. */
const RSA_ALG = Buffer.from('300d06092a864886f70d0101010500', 'hex');

export type DeviceKeyCheck = { ok: true; key: DeviceKey } | { ok: false; reason: string };

/**
 * Checks that a SubjectPublicKeyInfo is a device key in its one canonical encoding (EC:
 * id-ecPublicKey with a named curve and an uncompressed point; RSA: rsaEncryption with NULL
 * parameters and a minimal RSAPublicKey), and derives the device ID from it. Any other
 * encoding is refused, so one key can never yield two IDs.
 *
 * Temporary home: packages/protocol gets `deviceIdFromSpki`; this is the one function to
 * switch over to it.
 */
export function checkDeviceKey(spkiDer: Buffer): DeviceKeyCheck {
  for (const type of ['P-256', 'P-384'] as const) {
    const prefix = EC_PREFIX[type];
    if (
      spkiDer.length === prefix.length - 1 + EC_POINT_LEN[type] &&
      spkiDer.subarray(0, prefix.length).equals(prefix)
    ) {
      return {
        ok: true,
        key: {
          type,
          spkiDer,
          ecPoint: spkiDer.subarray(prefix.length - 1),
          publicKeyBits: spkiDer.subarray(prefix.length - 1),
          deviceId: deviceIdOf(spkiDer),
        },
      };
    }
  }
  try {
    const root = readRoot(spkiDer);
    const [alg, bits, extra] = children(
      spkiDer,
      expectTag(root, TAG.SEQUENCE, 'SubjectPublicKeyInfo'),
    );
    if (!alg || !bits || extra) return { ok: false, reason: 'not a SubjectPublicKeyInfo' };
    const algDer = bytesOf(spkiDer, alg);
    if (algDer.subarray(2).subarray(0, ID_EC_PUBLIC_KEY.length).equals(ID_EC_PUBLIC_KEY)) {
      return {
        ok: false,
        reason:
          'EC public key is not canonical or not on an accepted curve: use P-256 or P-384 as a named curve with an uncompressed point',
      };
    }
    if (!algDer.equals(RSA_ALG)) {
      return { ok: false, reason: 'unsupported public key algorithm: use ECDSA or RSA' };
    }
    const bitBody = bodyOf(spkiDer, expectTag(bits, TAG.BIT_STRING, 'subjectPublicKey'));
    if (bitBody[0] !== 0) return { ok: false, reason: 'RSA public key bit string has unused bits' };
    const inner = bitBody.subarray(1);
    const rsaRoot = readRoot(inner);
    const [n, e, more] = children(inner, expectTag(rsaRoot, TAG.SEQUENCE, 'RSAPublicKey'));
    if (!n || !e || more) return { ok: false, reason: 'not an RSAPublicKey' };
    const nb = integerBody(inner, n);
    const eb = integerBody(inner, e);
    const nBytes = nb[0] === 0 ? nb.subarray(1) : nb;
    const bitsLen = nBytes.length * 8 - Math.clz32(nBytes[0]!) + 24;
    const type = bitsLen === 2048 ? 'RSA-2048' : bitsLen === 3072 ? 'RSA-3072' : undefined;
    if (!type) return { ok: false, reason: `RSA modulus of ${bitsLen} bits: use 2048 or 3072` };
    const eBytes = eb;
    if (!(eBytes[eBytes.length - 1]! & 1) || (eBytes.length === 1 && eBytes[0]! < 3)) {
      return { ok: false, reason: 'RSA public exponent must be odd and at least 3' };
    }
    return {
      ok: true,
      key: {
        type,
        spkiDer,
        publicKeyBits: inner,
        rsa: { n: nBytes, e: eBytes },
        deviceId: deviceIdOf(spkiDer),
      },
    };
  } catch (err) {
    if (err instanceof DerError) return { ok: false, reason: `public key: ${err.message}` };
    throw err;
  }
}

/** Lowercase hex SHA-256 of a DER SubjectPublicKeyInfo (call only on a canonical one). */
export function deviceIdOf(spkiDer: Buffer): string {
  return createHash('sha256').update(spkiDer).digest('hex');
}
