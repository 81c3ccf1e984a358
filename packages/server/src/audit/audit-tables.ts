/** Kysely types of the audit log. */
export interface AuditTables {
  /**
   * One row per instance: the chain key (sealed), the checkpoint key in the key store, and the
   * head of the chain. Appends lock this row, so entries get gap-free sequence numbers.
   */
  audit_chain: {
    instance_id: string;
    chain_key: Buffer;
    signing_key_id: string;
    seq: number;
    mac: string;
    created_at: string;
    updated_at: string;
  };
  audit_log: {
    instance_id: string;
    seq: number;
    at: string;
    actor_type: string;
    actor_id: string | null;
    actor_name: string;
    action: string;
    target_type: string | null;
    target_id: string | null;
    target_name: string | null;
    result: string;
    source_address: string | null;
    /** JSON object, as text; the MAC covers these exact characters. */
    details: string;
    mac: string;
  };
  /** A signature by the audit key over (seq, mac): proof that the log reached this far. */
  audit_checkpoints: {
    instance_id: string;
    seq: number;
    mac: string;
    at: string;
    key_id: string;
    signature: string;
  };
}
