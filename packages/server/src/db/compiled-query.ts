import { CompiledQuery, type Compilable } from 'kysely';
import type { Executor } from './database.js';

/**
 * A query built and compiled once, then run with new parameter values: Kysely otherwise
 * builds the query tree and compiles it to SQL on every call, which on the device download
 * path (a few queries per range request) cost more than running them. `build` is called once,
 * on the first run, with placeholder strings for the parameters; each placeholder must come
 * out as exactly one bound parameter (plain `where(column, '=', value)` comparisons), which is
 * checked then. Other bound values the builder adds are kept as they are.
 */
export function compileOnce<P extends string[], R>(
  build: (db: Executor, ...params: P) => Compilable<R>,
): (db: Executor, ...params: P) => Promise<R[]> {
  let compiled: { sql: string; slots: ({ param: number } | { value: unknown })[] } | undefined;
  return async (db, ...params) => {
    if (!compiled) {
      const marks = params.map((_, i) => `\u0000compileOnce:${i}\u0000`) as P;
      const q = build(db, ...marks).compile();
      const slots = q.parameters.map((v) => {
        const i = marks.indexOf(v as string);
        return i >= 0 ? { param: i } : { value: v };
      });
      marks.forEach((_, i) => {
        if (slots.filter((s) => 'param' in s && s.param === i).length !== 1)
          throw new Error(`compileOnce: parameter ${i} is not bound exactly once`);
      });
      compiled = { sql: q.sql, slots };
    }
    const values = compiled.slots.map((s) => ('param' in s ? params[s.param] : s.value));
    return (await db.executeQuery<R>(CompiledQuery.raw(compiled.sql, values))).rows;
  };
}
