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

/** pg's Client seen through the calls used here (its typed overloads cannot be overridden). */
interface QueryingClient {
  query(text: unknown, values?: unknown, callback?: unknown): unknown;
  getTransactionStatus(): string | null;
}
const BaseClient = pg.Client as unknown as new (config?: pg.ClientConfig) => QueryingClient;

/**
 * PostgreSQL's answer when a statement's result columns changed since it was prepared: a
 * migration by another process (a newer replica during a rolling update) added a column to a
 * table read with `select *`. The statement never works again on that connection.
 */
function isStalePlan(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === '0A000' && /cached plan must not change result type/.test(String(e.message));
}

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
  /** Statements prepared again under another name after the schema changed under them. */
  #renamed: Map<string, string> | undefined;
  #renames = 0;

  override query(text: unknown, values?: unknown, callback?: unknown): unknown {
    if (typeof text === 'string' && Array.isArray(values) && callback === undefined) {
      const name = names.get(text);
      if (name) return this.#prepared(name, text, values);
    }
    return super.query(text, values, callback);
  }

  /**
   * A stale statement is prepared again under a new name (pg cannot drop the old one from its
   * list; the server's copy stays, one per schema change). Outside a transaction the call is
   * retried at once; inside one the transaction has failed already, and the next use works.
   */
  async #prepared(base: string, text: string, values: unknown[]): Promise<unknown> {
    const name = this.#renamed?.get(base) ?? base;
    try {
      return await super.query({ name, text, values });
    } catch (err) {
      if (!isStalePlan(err)) throw err;
      this.#renamed ??= new Map();
      const next = `${base}_${(this.#renames += 1)}`;
      this.#renamed.set(base, next);
      if (this.getTransactionStatus() !== 'I') throw err;
      return super.query({ name: next, text, values });
    }
  }
}

/** The class for pg.Pool's `Client` option. */
export const PreparingClient = Preparing as unknown as typeof pg.Client;
