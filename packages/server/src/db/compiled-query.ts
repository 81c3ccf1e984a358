import { randomBytes } from 'node:crypto';
import type { Compilable, CompiledQuery } from 'kysely';
import type { Executor } from './database.js';
import { preparePostgresStatement } from './pg-prepared-statements.js';

/**
 * Stands for the i-th argument while the query is built; never reaches the database. The random
 * part keeps a constant of the query from ever being taken for one.
 */
const TAG = `trustlink-arg-${randomBytes(8).toString('hex')}-`;
const placeholder = (i: number) => `${TAG}${i}`;

/**
 * A query built with Kysely once and then run with new arguments: the SQL text is compiled on
 * the first call and kept, so a hot path (a device's check-in) pays for binding its parameters
 * and running the statement, not for building and compiling the query again on every request
 * (which cost more CPU than running it, on SQLite). `build` gets one placeholder per argument
 * and must use each as a plain bound value (in `where`, `on`, `values`), never as an
 * identifier or inside a list whose length depends on the arguments; constant values it uses
 * stay as they were. The SQL is the same for the database and its transactions (one dialect),
 * so `tx` may be either. On PostgreSQL the text runs as a named prepared statement
 * (pg-prepared-statements.ts), so the server parses and plans it once per connection, not on
 * every call (SQLite keeps its statements in sqlite-statement-cache.ts).
 */
export function compiledQuery<Row, Args extends readonly unknown[]>(
  db: Executor,
  build: (db: Executor, args: Args) => Compilable<Row>,
  arity: Args['length'],
): (args: Args, tx?: Executor) => Promise<Row[]> {
  let compiled: CompiledQuery<Row> | undefined;
  // For each bound parameter: the argument it takes (>= 0) or -1 for a constant of the query.
  let slots: number[] = [];
  return async (args, tx = db) => {
    if (!compiled) {
      // Strings stand in for every argument: only their place in the parameters matters.
      const ph = Array.from({ length: arity }, (_, i) => placeholder(i)) as unknown as Args;
      const c = build(db, ph).compile();
      slots = c.parameters.map((p) => {
        return typeof p === 'string' && p.startsWith(TAG) ? Number(p.slice(TAG.length)) : -1;
      });
      const used = new Set(slots.filter((s) => s >= 0));
      if (used.size !== arity)
        throw new Error(`compiledQuery: ${used.size} of ${arity} arguments reached the SQL`);
      preparePostgresStatement(c.sql);
      compiled = c;
    }
    const base = compiled;
    const parameters = slots.map((s, i) => (s >= 0 ? args[s] : base.parameters[i]));
    const r = await tx.executeQuery<Row>({ ...base, parameters });
    return r.rows;
  };
}
