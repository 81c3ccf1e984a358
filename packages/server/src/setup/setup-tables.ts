export interface SetupTables {
  setup_links: {
    instance_id: string;
    token_hash: string;
    created_at: string;
    expires_at: string;
    used_at: string | null;
  };
}
