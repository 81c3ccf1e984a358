/** Key types the key store can create or hold. */
export const KEY_ALGORITHMS = ['P-256', 'P-384', 'RSA-2048', 'RSA-3072'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/**
 * How a signature is made. ECDSA signatures come back DER-encoded (as X.509 and CMS want);
 * JOSE callers convert to r||s themselves.
 */
export type SignatureScheme =
  | 'ecdsa-sha256'
  | 'ecdsa-sha384'
  | 'rsa-pkcs1-sha256'
  | 'rsa-pkcs1-sha384'
  | 'rsa-pss-sha256'
  | 'rsa-pss-sha384';

/**
 * What a key is for: `tls` keys are the only ones ever loaded into the TLS stack; `jwt` keys
 * sign database-direct device tokens only (kept apart from firmware `signing` keys).
 */
export type KeyPurpose = 'ca' | 'tls' | 'signing' | 'audit' | 'ocsp' | 'time' | 'jwt';

export type BackendKind = 'software' | 'pkcs11';

export interface KeyRecord {
  instanceId: string;
  id: string;
  label: string;
  algorithm: KeyAlgorithm;
  backend: BackendKind;
  purpose: KeyPurpose;
  /** DER SubjectPublicKeyInfo. */
  publicKeyDer: Buffer;
  createdAt: string;
  /** generated in a key store, or imported (a development key, never in an HSM). */
  origin: KeyOrigin;
}

export type KeyOrigin = 'generated' | 'imported';

export interface KeyStoreHealth {
  ok: boolean;
  backend: BackendKind;
  detail: string;
}

/** Where a backend keeps a key: identity of the row it belongs to (for seals and labels). */
export interface KeyContext {
  instanceId: string;
  keyId: string;
  label: string;
}

/**
 * One backend (software, PKCS#11). It never returns private key material: `handle` is either a
 * sealed blob only this backend can open, or a reference to an object inside an HSM.
 */
export interface KeyBackend {
  readonly kind: BackendKind;
  generate(
    algorithm: KeyAlgorithm,
    ctx: KeyContext,
  ): Promise<{ publicKeyDer: Buffer; handle: Buffer }>;
  import(
    pkcs8Der: Buffer,
    ctx: KeyContext,
  ): Promise<{ algorithm: KeyAlgorithm; publicKeyDer: Buffer; handle: Buffer }>;
  sign(handle: Buffer, data: Buffer, scheme: SignatureScheme, ctx: KeyContext): Promise<Buffer>;
  /** Removes the key's material (for PKCS#11, the objects in the token). */
  destroy(handle: Buffer, ctx: KeyContext): Promise<void>;
  health(): Promise<KeyStoreHealth>;
}

export interface GenerateKeyInput {
  algorithm: KeyAlgorithm;
  label: string;
  purpose: KeyPurpose;
  /** Defaults to the configured backend; TLS keys always live in software (see docs/keystore.md). */
  backend?: BackendKind;
}

/**
 * The key store: generate, import, sign, publicKey, health. Keys are referenced by id and are
 * scoped to an instance; private keys never leave it (TLS keys excepted, see tlsPrivateKeyPem).
 */
export interface KeyStore {
  generate(instanceId: string, input: GenerateKeyInput): Promise<KeyRecord>;
  import(
    instanceId: string,
    input: { pkcs8Der: Buffer; label: string; purpose: KeyPurpose },
  ): Promise<KeyRecord>;
  sign(instanceId: string, keyId: string, data: Buffer, scheme: SignatureScheme): Promise<Buffer>;
  /**
   * A signing function bound to one key and scheme, with the key looked up once: for hot paths
   * (issuance) that sign many times with the same CA key.
   */
  signer(
    instanceId: string,
    keyId: string,
    scheme: SignatureScheme,
  ): Promise<(data: Buffer) => Promise<Buffer>>;
  publicKey(instanceId: string, keyId: string): Promise<KeyRecord>;
  list(instanceId: string, purpose?: KeyPurpose): Promise<KeyRecord[]>;
  delete(instanceId: string, keyId: string): Promise<void>;
  /**
   * The private key of a TLS endpoint key, for the TLS stack only: Node's TLS must hold it in
   * memory. Refused for every other purpose.
   */
  tlsPrivateKeyPem(instanceId: string, keyId: string): Promise<string>;
  health(): Promise<KeyStoreHealth>;
  readonly defaultBackend: BackendKind;
}
