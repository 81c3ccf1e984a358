import type { KeyType, SignatureScheme as ProtocolScheme } from '@trustlink/protocol';

export { KEY_TYPES, type KeyType } from '@trustlink/protocol';

/**
 * How a signature is made: the protocol's schemes (ECDSA as DER over SHA-256 for P-256 and
 * SHA-384 for P-384; RSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt), plus PKCS#1 v1.5
 * for CSRs, which the protocol itself never accepts.
 */
export type SignatureScheme = ProtocolScheme | 'rsa-pkcs1-sha256';

/** The identity key as the world may see it. */
export interface IdentityPublicKey {
  /** Canonical DER SubjectPublicKeyInfo (the device ID is its SHA-256). */
  spkiDer: Buffer;
  keyType: KeyType;
}

export interface IdentityKeyResult extends IdentityPublicKey {
  /** True when this call created the key; false when it already existed. */
  created: boolean;
}

/** What the agent records about where its key lives; never private material. */
export type KeyReference = Record<string, string>;

/**
 * One root of trust holding the device's identity key (TPM, PKCS#11 token, development file).
 * The private key never leaves it: callers get the public key and ask for signatures.
 */
export interface IdentityKeyStore {
  readonly type: 'tpm' | 'pkcs11' | 'file';
  /**
   * Returns the identity key, creating it when there is none. Never replaces an existing key;
   * a key it cannot use is refused (KeyStoreRefusedError), not overwritten.
   */
  getOrCreateIdentityKey(): Promise<IdentityKeyResult>;
  /** The identity key, or null when none has been created yet. */
  publicKey(): Promise<IdentityPublicKey | null>;
  /**
   * Signs `data` (the whole message, hashed inside with the scheme's hash). The scheme must
   * fit the key: ECDSA-SHA-256 for P-256, ECDSA-SHA-384 for P-384, RSA schemes for RSA keys.
   */
  sign(data: Buffer, scheme: SignatureScheme): Promise<Buffer>;
  /** Where the key lives, for people and for the state file (no secrets). */
  describe(): { summary: string; reference: KeyReference };
}
