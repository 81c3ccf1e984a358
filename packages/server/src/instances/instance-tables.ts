export interface InstanceTables {
  instances: {
    id: string;
    name: string;
    created_at: string;
    /** Set when the first administrator was created through the setup link. */
    claimed_at: string | null;
  };
  /** Facts about the deployment as a whole (not user data), such as the master key check. */
  server_meta: {
    name: string;
    value: string;
    updated_at: string;
  };
}
