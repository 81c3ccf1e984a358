import { accessSync, chmodSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type Transaction } from 'kysely';
import { withStatementCache } from './sqlite-statement-cache.js';
import pg from 'pg';
import { PreparingClient } from './pg-prepared-statements.js';
import { pgTypes } from './pg-types-fns.js';
import { ConfigError } from '../config.js';
import type { Database } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

/** An open database: the Kysely handle and what kind it is. */
export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: DialectName;
  /** A description safe to log (no password). */
  readonly description: string;
  /** For SQLite: the file, which is new if it did not exist before this process opened it. */
  readonly sqliteFile?: string;
  close(): Promise<void>;
}

/** Either the root handle or an open transaction; repositories accept both. */
export type Executor = Kysely<Database> | Transaction<Database>;

/** Checks a SQLite file path can be used, without creating anything. */
function checkSqlitePath(file: string): void {
  const dir = path.dirname(file);
  if (existsSync(file)) {
    try {
      accessSync(file, constants.R_OK | constants.W_OK);
    } catch {
      throw new ConfigError(`database: cannot read and write ${file} (check its owner and mode)`);
    }
    return;
  }
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new ConfigError(`database: ${dir} is not a directory`);
    try {
      accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch {
      throw new ConfigError(
        `database: cannot write to directory ${dir} (check its owner and mode)`,
      );
    }
  }
}

/** Parses a database URL into what is needed to open it; unknown schemes are a config error. */
export function parseDatabaseUrl(url: string): { dialect: DialectName; target: string } {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!file)
      throw new ConfigError(
        'database: sqlite: URL needs a file path, e.g. sqlite:./data/trustlink.db',
      );
    return { dialect: 'sqlite', target: file };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', target: url };
  const scheme = url.split(':')[0] ?? url;
  throw new ConfigError(
    `database: unsupported URL scheme "${scheme}:" (use postgres://... or sqlite:<file>)`,
  );
}

/** Redacts the password of a PostgreSQL URL for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]+@/, ':***@');
  }
}

export interface OpenOptions {
  /** SQLite: create the file's directory if it is missing. */
  createDirs?: boolean;
  /**
   * PostgreSQL: run the hot compiled queries as named prepared statements (the default); false
   * sends every statement unnamed, for poolers that cannot keep a statement to a connection.
   */
  preparedStatements?: boolean;
}

/**
 * Opens the database named by the URL. SQLite: checks the path first and creates the file's
 * directory only when `createDirs` is set, so a bad configuration changes nothing on disk.
 */
export async function openDatabase(url: string, opts: OpenOptions = {}): Promise<Db> {
  const { dialect, target } = parseDatabaseUrl(url);
  if (dialect === 'sqlite') {
    checkSqlitePath(target);
    if (!existsSync(path.dirname(target)) && !opts.createDirs) {
      throw new ConfigError(`database: directory ${path.dirname(target)} does not exist`);
    }
    const isNew = !existsSync(target);
    const sqlite = new SQLite(target);
    // Sealed keys are safe without the master key, but metadata and hashes are nobody else's.
    if (isNew) chmodSync(target, 0o600);
    // WAL lets readers run beside the single writer; busy_timeout waits instead of failing.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // 64 MiB of page cache (the default is 2 MiB): index pages of a large fleet stay in memory.
    sqlite.pragma('cache_size = -65536');
    const kysely = new Kysely<Database>({
      dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
    });
    return {
      kysely,
      dialect,
      description: `sqlite:${target}`,
      sqliteFile: target,
      close: () => kysely.destroy(),
    };
  }
  const pool = new pg.Pool({
    connectionString: target,
    max: 10,
    types: pgTypes,
    ...(opts.preparedStatements === false ? {} : { Client: PreparingClient }),
  });
  // An idle client that loses its connection must not crash the process.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new ConfigError(
      `database: cannot connect to ${redactUrl(target)}: ${(err as Error).message}`,
    );
  }
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { kysely, dialect, description: redactUrl(target), close: () => kysely.destroy() };
}
