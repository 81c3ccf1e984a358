import { createPublicKey, type KeyObject } from 'node:crypto';
import type { KeyAlgorithm, SignatureScheme } from './keystore-types.js';

/** Names the algorithm of a Node key object, or undefined for keys we do not support. */
export function algorithmOfKey(key: KeyObject): KeyAlgorithm | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    if (d?.namedCurve === 'prime256v1') return 'P-256';
    if (d?.namedCurve === 'secp384r1') return 'P-384';
    return undefined;
  }
  if (key.asymmetricKeyType === 'rsa') {
    if (d?.modulusLength === 2048) return 'RSA-2048';
    if (d?.modulusLength === 3072) return 'RSA-3072';
  }
  return undefined;
}

/** The DER SubjectPublicKeyInfo of a public or private key. */
export function spkiDer(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}

/** Schemes a key of this algorithm may sign with. */
export function schemeFitsAlgorithm(scheme: SignatureScheme, algorithm: KeyAlgorithm): boolean {
  return scheme.startsWith('ecdsa') ? algorithm.startsWith('P-') : algorithm.startsWith('RSA');
}

/** The natural signature scheme of a key type (X.509 and CMS default). */
export function defaultScheme(algorithm: KeyAlgorithm): SignatureScheme {
  if (algorithm === 'P-384') return 'ecdsa-sha384';
  if (algorithm === 'P-256') return 'ecdsa-sha256';
  return 'rsa-pkcs1-sha256';
}

export function hashOfScheme(scheme: SignatureScheme): 'sha256' | 'sha384' {
  return scheme.endsWith('384') ? 'sha384' : 'sha256';
}
