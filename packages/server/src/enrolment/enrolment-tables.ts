export interface EnrolmentTables {
  /** One challenge MAC key per instance, sealed under the master key. */
  challenge_keys: {
    instance_id: string;
    secret: Buffer;
    created_at: string;
  };
  /** Challenge nonces already used, kept until they expire (single use). */
  used_nonces: {
    instance_id: string;
    /** Lowercase hex SHA-256 of the nonce string. */
    nonce_hash: string;
    expires_at: string;
  };
  /** The key and certificate (issued by the OEM root) that sign time statements. */
  time_signers: {
    instance_id: string;
    id: string;
    key_id: string;
    der: Buffer;
    not_after: string;
    created_at: string;
  };
}
