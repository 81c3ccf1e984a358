export interface FirmwareTables {
  firmware: {
    instance_id: string;
    id: string;
    name: string;
    description: string;
    version: string;
    /** Anti-rollback counter written into manifests (0 to 2^32-1). */
    security_version: number;
    /** raw, esp32-sbv2 or linux-bundle-cms: which native signatures an assignment makes. */
    format: string;
    /** binary or intel-hex: what was uploaded (the stored image is always the flat binary). */
    source_format: string;
    /** Intel HEX uploads: the address of the image's first byte. */
    base_address: number | null;
    size: number;
    /** Lowercase hex SHA-256 of the stored image: its name in the blob store. */
    sha256: string;
    created_by: string;
    created_at: string;
    updated_at: string;
  };
  firmware_attributes: {
    instance_id: string;
    firmware_id: string;
    name: string;
    value: string;
  };
  firmware_signatures: {
    instance_id: string;
    id: string;
    firmware_id: string;
    key_id: string;
    /** manifest, esp32-sbv2 or cms. */
    kind: string;
    /** The signed image (esp32-sbv2) or the .p7s (cms) in the blob store; null for manifests. */
    blob_sha256: string | null;
    size: number | null;
    created_at: string;
  };
  /** The certificate (issued by the OEM root) that CMS signatures of a signing key carry. */
  firmware_signer_certificates: {
    instance_id: string;
    key_id: string;
    der: Buffer;
    not_after: string;
    created_at: string;
  };
  /** One per assignment of firmware to a batch; the batch's newest is the one not superseded. */
  firmware_updates: {
    instance_id: string;
    id: string;
    batch_id: string;
    firmware_id: string;
    signing_key_id: string;
    /** What devices download: the image itself, or for esp32-sbv2 the signed image. */
    image_sha256: string;
    image_size: number;
    format: string;
    /** JWS compact, re-signed when it nears expiry while the update is current. */
    manifest: string;
    manifest_issued_at: string;
    manifest_expires_at: string;
    created_by: string;
    created_at: string;
    superseded_at: string | null;
  };
  firmware_update_devices: {
    instance_id: string;
    update_id: string;
    device_id: string;
    /** pending, downloading, installing, installed or failed. */
    status: string;
    /** Failures: what the device reported. */
    reason: string | null;
    created_at: string;
    updated_at: string;
    downloading_at: string | null;
    installing_at: string | null;
    installed_at: string | null;
    failed_at: string | null;
    /** The device's own time of its last report (its clock, shown as reported). */
    reported_at: string | null;
  };
}
