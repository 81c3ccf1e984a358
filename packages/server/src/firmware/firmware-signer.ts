import type { KeyStore, SignatureScheme } from '../keystore/keystore-types.js';

/**
 * Signs bytes the way the key store does: the signer hashes `data` with the scheme's hash and
 * returns the signature (ECDSA as DER, RSA as the raw modulus-sized value). Format code only
 * ever sees this function, so private keys stay inside the key store.
 */
export type FirmwareSigner = (data: Buffer, scheme: SignatureScheme) => Promise<Buffer>;

/** A FirmwareSigner backed by one key of the key store. */
export function keyStoreSigner(
  keystore: Pick<KeyStore, 'sign'>,
  instanceId: string,
  keyId: string,
): FirmwareSigner {
  return (data, scheme) => keystore.sign(instanceId, keyId, data, scheme);
}
