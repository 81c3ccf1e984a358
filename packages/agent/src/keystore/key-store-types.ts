/** Key types an identity key may have (PROTOCOL.md "Identity"); P-256 is the default. */
export const KEY_TYPES = ['P-256', 'P-384', 'RSA-2048', 'RSA-3072'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/**
 * How a signature is made. ECDSA signatures are DER (as X.509, CMS and the proof header want);
 * RSA-PSS uses MGF1 with the same hash and a 32-byte salt; PKCS#1 v1.5 serves CSRs.
 */
export const SIGNATURE_SCHEMES = [
  'ecdsa-sha256',
  'ecdsa-sha384',
  'rsa-pss-sha256',
  'rsa-pkcs1-sha256',
] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

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
