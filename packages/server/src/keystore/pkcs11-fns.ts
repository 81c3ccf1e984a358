import { TAG, integer, readRoot, seq } from '../pki/der-fns.js';

const EC_SPKI_PREFIX = {
  'P-256': Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
  'P-384': Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'),
} as const;

/** The SubjectPublicKeyInfo of an EC key from its uncompressed point. */
export function ecSpki(curve: 'P-256' | 'P-384', point: Buffer): Buffer {
  return Buffer.concat([EC_SPKI_PREFIX[curve], point]);
}

/**
 * CKA_EC_POINT holds the point wrapped in a DER OCTET STRING (PKCS#11 2.20+); some tokens
 * return it bare. Either way, the uncompressed point.
 */
export function ecPointFromAttribute(value: Buffer): Buffer {
  if (value[0] === TAG.OCTET_STRING) {
    try {
      const t = readRoot(value);
      return value.subarray(t.body, t.end);
    } catch {
      /* not wrapped after all */
    }
  }
  return value;
}

/** PKCS#11 returns ECDSA signatures as r || s; X.509 wants DER Ecdsa-Sig-Value. */
export function ecdsaRawToDer(raw: Buffer): Buffer {
  const half = raw.length / 2;
  return seq(integer(raw.subarray(0, half)), integer(raw.subarray(half)));
}

const DIGEST_INFO_PREFIX = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
} as const;

/** The DigestInfo that CKM_RSA_PKCS signs for PKCS#1 v1.5 signatures. */
export function digestInfo(hash: 'sha256' | 'sha384', digest: Buffer): Buffer {
  return Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
}
