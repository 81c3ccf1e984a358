/** Kysely types of the auth domain: second factors, sessions, challenges, tokens, throttling. */
export interface AuthTables {
  /** A user's enrolled TOTP secret (sealed) and the last time step accepted (replay guard). */
  user_totp: {
    instance_id: string;
    user_id: string;
    secret: Buffer;
    last_step: number | null;
    enrolled_at: string;
  };
  /** A TOTP secret shown to someone who has not yet proven they scanned it. */
  totp_enrolments: {
    instance_id: string;
    id: string;
    label: string;
    secret: Buffer;
    attempts: number;
    created_at: string;
    expires_at: string;
  };
  recovery_codes: {
    instance_id: string;
    user_id: string;
    code_hash: string;
    created_at: string;
    used_at: string | null;
  };
  sessions: {
    instance_id: string;
    id: string;
    token_hash: string;
    user_id: string;
    created_at: string;
    last_seen_at: string;
    expires_at: string;
    source_address: string;
    user_agent: string;
  };
  /** The state between a correct password and the second factor. */
  sign_in_challenges: {
    instance_id: string;
    token_hash: string;
    user_id: string;
    kind: string;
    enrolment_id: string | null;
    attempts: number;
    created_at: string;
    expires_at: string;
  };
  api_tokens: {
    instance_id: string;
    id: string;
    user_id: string;
    name: string;
    token_hash: string;
    /** The last characters of the token, so people can tell their tokens apart. */
    hint: string;
    created_at: string;
    expires_at: string;
    last_used_at: string | null;
    revoked_at: string | null;
  };
  auth_throttle: {
    instance_id: string;
    scope: string;
    subject: string;
    failures: number;
    last_failure_at: string;
    blocked_until: string | null;
  };
}
