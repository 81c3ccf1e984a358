export interface PkiTables {
  ca_certificates: {
    instance_id: string;
    id: string;
    /** root, issuing or tls. */
    kind: string;
    name: string;
    key_id: string;
    issuer_id: string | null;
    serial: string;
    subject: string;
    not_before: string;
    not_after: string;
    der: Buffer;
    created_at: string;
    retired_at: string | null;
  };
}
