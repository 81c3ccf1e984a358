/**
 * Every column that holds a value sealed under the master key. Master-key rotation re-seals
 * exactly these; a domain that adds a secret column adds it here in the same change.
 */
export interface SealedColumn {
  table: string;
  column: string;
  /** Columns that identify a row; the seal's `row` is their values joined with '/'. */
  key: string[];
  /** Only rows where this column has this value are sealed (others hold plain handles). */
  only?: { column: string; value: string };
}

export const SEALED_COLUMNS: SealedColumn[] = [
  { table: 'keys', column: 'handle', key: ['id'], only: { column: 'backend', value: 'software' } },
  { table: 'user_totp', column: 'secret', key: ['user_id'] },
  { table: 'totp_enrolments', column: 'secret', key: ['id'] },
  { table: 'audit_chain', column: 'chain_key', key: ['instance_id'] },
  { table: 'challenge_keys', column: 'secret', key: ['instance_id'] },
  { table: 'hubs', column: 'secrets', key: ['id'] },
  { table: 'database_connections', column: 'secrets', key: ['id'] },
];
