import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  TEST_DIALECTS,
  type TestDatabase,
} from '../test-helpers/test-databases.js';
import { compileOnce } from './compiled-query.js';
import { openDatabase, type Db, type Executor } from './database.js';

// A table of the test's own, outside the product schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const loose = (db: Executor) => db as unknown as Kysely<any>;

for (const dialect of TEST_DIALECTS) {
  describe(`queries compiled once on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;
    beforeAll(async () => {
      tdb = await createTestDatabase(dialect);
      db = await openDatabase(tdb.url);
      await loose(db.kysely)
        .schema.createTable('cq_test')
        .addColumn('a', 'text', (c) => c.notNull())
        .addColumn('b', 'text', (c) => c.notNull())
        .addColumn('n', 'integer', (c) => c.notNull())
        .execute();
      await loose(db.kysely)
        .insertInto('cq_test')
        .values([
          { a: 'x', b: '1', n: 1 },
          { a: 'x', b: '2', n: 2 },
          { a: 'y', b: '1', n: 3 },
        ])
        .execute();
    });
    afterAll(async () => {
      await db.close();
      await tdb.drop();
    });

    it('ok/each run binds its own values, in the builder order; constants stay', async () => {
      const q = compileOnce((tx: Executor, b: string, a: string) =>
        loose(tx)
          .selectFrom('cq_test')
          .select('n')
          .where('a', '=', a)
          .where('n', '<', 100)
          .where('b', '=', b),
      );
      expect(await q(db.kysely, '1', 'x')).toEqual([{ n: 1 }]);
      expect(await q(db.kysely, '2', 'x')).toEqual([{ n: 2 }]);
      expect(await q(db.kysely, '1', 'y')).toEqual([{ n: 3 }]);
      expect(await q(db.kysely, '2', 'y')).toEqual([]);
      // Inside a transaction too.
      const inTx = await db.kysely.transaction().execute((tx) => q(tx, '1', 'y'));
      expect(inTx).toEqual([{ n: 3 }]);
    });

    it('fail/a parameter the builder does not bind exactly once is refused', async () => {
      const twice = compileOnce((tx: Executor, a: string) =>
        loose(tx).selectFrom('cq_test').select('n').where('a', '=', a).where('b', '=', a),
      );
      await expect(twice(db.kysely, 'x')).rejects.toThrow(/exactly once/);
      const unused = compileOnce((tx: Executor, _a: string) =>
        loose(tx).selectFrom('cq_test').select('n'),
      );
      await expect(unused(db.kysely, 'x')).rejects.toThrow(/exactly once/);
    });
  });
}
