export interface AuthCertTables {
  auth_certs: {
    instance_id: string;
    id: string;
    name: string;
    batch_id: string;
    /** must-pre-register or requires-token. */
    rule: string;
    subject: string;
    /** SHA-256 of the DER, lowercase hex; one CA is imported once per instance. */
    fingerprint: string;
    not_before: string;
    not_after: string;
    der: Buffer;
    created_at: string;
  };
}
