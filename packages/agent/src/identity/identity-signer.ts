import type { Signer } from '@trustlink/protocol';
import { NoIdentityKeyError } from '../keystore/key-store-errors.js';
import type { IdentityKeyStore } from '../keystore/key-store-types.js';

/**
 * The identity key as the protocol package's `Signer`, for proofs of possession
 * (`createProofHeader`): the key store signs, the key never leaves it.
 */
export async function identitySigner(store: IdentityKeyStore): Promise<Signer> {
  const key = await store.publicKey();
  if (!key) throw new NoIdentityKeyError();
  return {
    keyType: key.keyType,
    sign: async (data, scheme) => store.sign(Buffer.from(data), scheme),
  };
}
