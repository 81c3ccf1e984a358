export interface DeviceTables {
  devices: {
    instance_id: string;
    /** The device ID: lowercase hex SHA-256 of the identity key's canonical SPKI. */
    id: string;
    batch_id: string;
    /** registered, enrolled, renewed, revoked or expired. */
    state: string;
    registered_at: string;
    enrolled_at: string | null;
    renewed_at: string | null;
    revoked_at: string | null;
    expired_at: string | null;
    last_seen_at: string | null;
  };
}
