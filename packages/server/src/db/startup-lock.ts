import { sql } from 'kysely';
import type { Db } from './database.js';

/** Names Trustlink's start-up lock among the PostgreSQL advisory locks of the database. */
const STARTUP_LOCK_KEY = 0x74_72_75_73; // "trus"

/**
 * Takes a database-wide lock for the start-up steps that must not interleave across
 * replicas: deciding whether the database is new, migrating it, and creating the instance
 * with its root CA. Without it, replicas started together on an empty PostgreSQL database
 * race: one reads the instance another is still creating ("has no root CA"), or each takes
 * the database for new and uses its own master key. Returns the function that releases it
 * (safe to call twice). SQLite serves one process, so there is nothing to take.
 */
export async function takeStartupLock(db: Db): Promise<() => Promise<void>> {
  if (db.dialect !== 'postgres') return async () => undefined;
  let release!: () => void;
  const releasing = new Promise<void>((resolve) => (release = resolve));
  let acquired!: () => void;
  let failed!: (err: unknown) => void;
  const held = new Promise<void>((resolve, reject) => {
    acquired = resolve;
    failed = reject;
  });
  // An advisory lock belongs to a session: hold one pooled connection until released.
  const done = db.kysely
    .connection()
    .execute(async (conn) => {
      await sql`select pg_advisory_lock(${STARTUP_LOCK_KEY})`.execute(conn);
      acquired();
      await releasing;
      await sql`select pg_advisory_unlock(${STARTUP_LOCK_KEY})`.execute(conn);
    })
    .catch((err: unknown) => failed(err));
  await held;
  return async () => {
    release();
    await done;
  };
}
