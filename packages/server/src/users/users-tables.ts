/** Kysely types of the users domain. */
export interface UserTables {
  users: {
    instance_id: string;
    id: string;
    /** As the administrator typed it; immutable. */
    username: string;
    /** Lower-cased username, unique per instance. */
    username_key: string;
    email: string;
    first_name: string;
    last_name: string;
    role: string;
    /** argon2id PHC string. */
    password_hash: string;
    two_factor_enabled: number;
    disabled_at: string | null;
    last_login_at: string | null;
    created_at: string;
    updated_at: string;
  };
}
