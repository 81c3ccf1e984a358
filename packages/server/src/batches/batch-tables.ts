export interface BatchTables {
  batches: {
    instance_id: string;
    id: string;
    name: string;
    policy_id: string;
    /** Assigned by an administrator with the firmware work; null until then. */
    firmware_id: string | null;
    signing_key_id: string | null;
    /** JSON: { operator: 'and' | 'or', filters: [{ name, value }] }. */
    attribute_filter: string;
    created_at: string;
    updated_at: string;
  };
}
