export interface DeviceSessionTables {
  /** Bearer handles of devices that cannot use TLS client authentication. */
  device_sessions: {
    instance_id: string;
    id: string;
    device_id: string;
    /** Lowercase hex SHA-256 of the token; the token itself is never stored. */
    token_hash: string;
    expires_at: string;
    created_at: string;
  };
}
