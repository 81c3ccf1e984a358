import type { DialectName } from './database.js';

/**
 * Column types that mean the same on both dialects. Timestamps are ISO-8601 UTC strings in the
 * code (text in SQLite, timestamptz in PostgreSQL); flags are 0/1 integers; JSON is text.
 */
export function columnTypes(dialect: DialectName) {
  const pg = dialect === 'postgres';
  return {
    timestamp: pg ? ('timestamptz' as const) : ('text' as const),
    blob: pg ? ('bytea' as const) : ('blob' as const),
    bigint: pg ? ('bigint' as const) : ('integer' as const),
  };
}
