export interface KeyTables {
  keys: {
    instance_id: string;
    id: string;
    label: string;
    algorithm: string;
    backend: string;
    purpose: string;
    /** DER SubjectPublicKeyInfo. */
    public_key: Buffer;
    /** Backend-specific: the sealed private key (software) or the object id (PKCS#11). */
    handle: Buffer;
    created_at: string;
    /** generated (in a key store) or imported (a development key; listed as nohsm:). */
    origin: string;
  };
}
