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
    /** The newest certificate issued to the device (device_certificates.id). */
    current_cert_id: string | null;
    /** Its serial, lowercase hex, as check-ins report it. */
    current_serial: string | null;
    cert_not_after: string | null;
    /** When the current certificate is due for renewal (two thirds of its lifetime). */
    renew_at: string | null;
    /** How the device enrolled: pre-registered, factory-certificate, factory-certificate+token. */
    enrol_method: string | null;
    /** P-256, P-384, RSA-2048 or RSA-3072: the identity key. */
    key_type: string | null;
    /** DER of the CSR behind the current certificate (auto-renewal reuses it). */
    csr: Buffer | null;
    /** SHA-256 of the running image, as reported at check-in (not attested). */
    firmware_digest: string | null;
    /** RFC 5280 reason given when the device was revoked. */
    revocation_reason: string | null;
  };
  /**
   * Devices per (batch, state), kept by triggers on `devices` (migration fleet_counts) and
   * split over 16 slots by the device ID's first hex character; readers sum the slots.
   */
  device_state_counts: {
    instance_id: string;
    batch_id: string;
    state: string;
    slot: string;
    n: number;
  };
}
