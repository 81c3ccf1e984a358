import type SQLite from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/**
 * better-sqlite3 compiles a statement on every `prepare`; Kysely prepares on every query. The
 * same few statements run on every check-in, so compiling each once and keeping it saves a
 * tenth of a check-in's CPU (bench/enrolment). Bounded, least recently used first out, since
 * bulk inserts and IN lists make statements of many shapes. Safe because the SQLite driver runs
 * one query at a time and nothing streams (an iterating statement could not be reused).
 */
export function withStatementCache(db: SQLite.Database, max = 256): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => db.close(),
    prepare(sql: string) {
      let s = cache.get(sql);
      if (s) {
        cache.delete(sql);
        cache.set(sql, s);
        return s;
      }
      s = db.prepare(sql);
      cache.set(sql, s);
      if (cache.size > max) cache.delete(cache.keys().next().value!);
      return s;
    },
  };
}
