export interface EnrolmentTokenTables {
  enrolment_tokens: {
    instance_id: string;
    id: string;
    name: string;
    batch_id: string;
    /** SHA-256 of the token value; the value itself is shown once and never stored. */
    value_hash: string;
    not_before: string;
    not_after: string;
    created_at: string;
  };
}
