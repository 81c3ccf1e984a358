import { createHash } from 'node:crypto';
import pg from 'pg';

/**
 * SQL texts that run as named prepared statements on PostgreSQL, with their names. Only the
 * hot queries compiled once (compiled-query.ts) are put here, so the set is as small as the
 * code's list of them; anything else Kysely sends stays an unnamed statement (parsed and
 * planned each time), because its text may vary without bound (a list of ids, a search).
 */
const names = new Map<string, string>();

/** Far above the compiled queries the code has; a bug that compiles per call stops here. */
const MAX_STATEMENTS = 500;

/**
 * Marks a SQL text to be prepared on each PostgreSQL connection that runs it. The name comes
 * from the text itself (a hash), so it is the same for the same text wherever it is registered
 * and two texts never share one on a connection (pg refuses a name reused for another text).
 */
export function preparePostgresStatement(sql: string): void {
  if (names.has(sql) || names.size >= MAX_STATEMENTS) return;
  names.set(sql, `trustlink_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`);
}

/** The statement name of a registered SQL text (undefined: run it unnamed). */
export function preparedStatementName(sql: string): string | undefined {
  return names.get(sql);
}

/** pg's Client seen through the one call rewritten (its typed overloads cannot be overridden). */
interface QueryingClient {
  query(text: unknown, values?: unknown, callback?: unknown): unknown;
}
const BaseClient = pg.Client as unknown as new (config?: pg.ClientConfig) => QueryingClient;

/**
 * pg's client, which runs the registered SQL texts as named statements: pg parses such a
 * statement once per connection (it remembers which it has prepared, per client) and then
 * only binds and executes it, and PostgreSQL keeps the statement's plan. Kysely's driver calls
 * `query(text, values)`; that call is the one rewritten, every other form passes through.
 * Inside a transaction it is the same client, so the same statements; a statement whose
 * preparation fails (e.g. in an aborted transaction) is not remembered and is prepared again
 * on the next use.
 */
class Preparing extends BaseClient {
  override query(text: unknown, values?: unknown, callback?: unknown): unknown {
    if (typeof text === 'string' && Array.isArray(values) && callback === undefined) {
      const name = names.get(text);
      if (name) return super.query({ name, text, values });
    }
    return super.query(text, values, callback);
  }
}

/** The class for pg.Pool's `Client` option. */
export const PreparingClient = Preparing as unknown as typeof pg.Client;
