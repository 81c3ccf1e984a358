/** Key types a device identity key (and the platform's signing keys) may have. */
export const KEY_TYPES = ['P-256', 'P-384', 'RSA-2048', 'RSA-3072'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/**
 * The signature schemes this protocol uses, named as the server's key store names them, so an
 * injected signer can hand the scheme straight to `KeyStore.sign`. ECDSA signatures are DER.
 */
export type SignatureScheme = 'ecdsa-sha256' | 'ecdsa-sha384' | 'rsa-pss-sha256';

/**
 * An injected signer: a TPM or secure element on the agent, the key store on the server, a Node
 * key in tests. It signs `data` (not a digest) with `scheme`; ECDSA results are DER-encoded.
 */
export interface Signer {
  keyType: KeyType;
  sign(data: Uint8Array, scheme: SignatureScheme): Promise<Uint8Array>;
}

/**
 * The one scheme a key type signs with. Fixed per type so a verifier never lets the message
 * choose: ECDSA with the hash that matches the curve, RSA as PSS with SHA-256, MGF1-SHA-256 and a
 * 32-byte salt (PKCS#1 v1.5 is not accepted).
 */
export function schemeOfKeyType(keyType: KeyType): SignatureScheme {
  if (keyType === 'P-256') return 'ecdsa-sha256';
  if (keyType === 'P-384') return 'ecdsa-sha384';
  return 'rsa-pss-sha256';
}

/** Size in bytes of one ECDSA coordinate or scalar, or of an RSA signature. */
export function signatureUnitSize(keyType: KeyType): number {
  return { 'P-256': 32, 'P-384': 48, 'RSA-2048': 256, 'RSA-3072': 384 }[keyType];
}
