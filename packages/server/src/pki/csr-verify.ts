import { constants, createPublicKey, KeyObject, verify, webcrypto } from 'node:crypto';
import type { DeviceKey } from './device-key-fns.js';
import type { ParsedCsr } from './csr-fns.js';

/**
 * A Node key object for a checked device key. EC keys go through WebCrypto's raw-point import,
 * which skips the DER decoder (the slowest step of loading a key in OpenSSL 3.0) and still
 * checks the point is on the curve; RSA keys go through JWK, which is cheap for RSA.
 */
export async function devicePublicKey(key: DeviceKey): Promise<KeyObject> {
  if (key.ecPoint) {
    const ck = await webcrypto.subtle.importKey(
      'raw',
      key.ecPoint,
      { name: 'ECDSA', namedCurve: key.type },
      true,
      ['verify'],
    );
    return KeyObject.from(ck);
  }
  const rsa = key.rsa!;
  return createPublicKey({
    key: { kty: 'RSA', n: rsa.n.toString('base64url'), e: rsa.e.toString('base64url') },
    format: 'jwk',
  });
}

/** Parsed CSRs whose signature verified (each object as parseCsr made it; never mutated). */
const verified = new WeakSet<ParsedCsr>();

/** Whether this parsed CSR's signature was verified already (the issuance engine skips it). */
export function csrSignatureVerified(csr: ParsedCsr): boolean {
  return verified.has(csr);
}

/**
 * True when the CSR's signature verifies with its own public key (proof the signer holds it).
 * `decoded`: that same key already decoded by OpenSSL (the caller has checked its SPKI is the
 * CSR's, byte for byte), used instead of importing it again.
 */
export async function verifyCsrSignature(csr: ParsedCsr, decoded?: KeyObject): Promise<boolean> {
  if (verified.has(csr)) return true;
  const ok = await verifyWith(csr, decoded);
  if (ok) verified.add(csr);
  return ok;
}

async function verifyWith(csr: ParsedCsr, decoded?: KeyObject): Promise<boolean> {
  let key: KeyObject;
  try {
    key = decoded ?? (await devicePublicKey(csr.key));
  } catch {
    return false; // e.g. a point that is not on the curve
  }
  const alg = csr.signatureAlgorithm;
  const hash = alg.endsWith('384') ? 'sha384' : 'sha256';
  try {
    if (alg.startsWith('rsa-pss')) {
      return verify(
        hash,
        csr.info,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hash === 'sha256' ? 32 : 48 },
        csr.signature,
      );
    }
    return verify(hash, csr.info, key, csr.signature);
  } catch {
    return false;
  }
}
