export interface ManufacturingTables {
  manufacturing_credentials: {
    instance_id: string;
    id: string;
    name: string;
    /** The one batch this credential may add device IDs to. */
    batch_id: string;
    /** SHA-256 of the credential; the credential itself is shown once and never stored. */
    secret_hash: string;
    /** Last 4 characters, so people can tell credentials apart. */
    hint: string;
    not_after: string;
    max_devices: number;
    /** Device IDs this credential has added (re-registrations of the same ID do not count). */
    used_devices: number;
    created_at: string;
    created_by: string;
    last_used_at: string | null;
  };
}
