import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  TEST_DIALECTS,
  type TestDatabase,
} from '../test-helpers/test-databases.js';
import { compiledQuery } from './compiled-query.js';
import { openDatabase, type Db } from './database.js';
import { migrateToLatest } from './migrator.js';

for (const dialect of TEST_DIALECTS) {
  describe(`compiled queries on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;

    beforeAll(async () => {
      tdb = await createTestDatabase(dialect);
      db = await openDatabase(tdb.url);
      await migrateToLatest(db);
      await db.kysely
        .insertInto('job_leases')
        .values([
          { name: 'a', holder: 'h1', expires_at: '2026-01-01' },
          { name: 'b', holder: 'h1', expires_at: '2026-06-01' },
          { name: 'c', holder: 'h2', expires_at: '2026-06-01' },
        ])
        .execute();
    });
    afterAll(async () => {
      await db.close();
      await tdb.drop();
    });

    it('ok/binds new arguments on every call, in their places, beside the constants', async () => {
      // The arguments are used in another order than given, and a constant sits between them.
      const q = compiledQuery(
        db.kysely,
        (k, [holder, after]: [string, string]) =>
          k
            .selectFrom('job_leases')
            .select(['name'])
            .where('expires_at', '>', after)
            .where('name', '!=', 'zz')
            .where('holder', '=', holder)
            .orderBy('name'),
        2,
      );
      expect(await q(['h1', '2025-12-31'])).toEqual([{ name: 'a' }, { name: 'b' }]);
      expect(await q(['h1', '2026-02-01'])).toEqual([{ name: 'b' }]);
      expect(await q(['h2', '2025-12-31'])).toEqual([{ name: 'c' }]);
      expect(await q(['nobody', '2025-12-31'])).toEqual([]);
      // Inside a transaction too, seeing its uncommitted rows.
      await db.kysely.transaction().execute(async (tx) => {
        await tx
          .insertInto('job_leases')
          .values({ name: 'd', holder: 'h2', expires_at: '2026-06-01' })
          .execute();
        expect(await q(['h2', '2025-12-31'], tx)).toEqual([{ name: 'c' }, { name: 'd' }]);
      });
    });

    it('err/an argument the query does not use is refused, not silently dropped', async () => {
      const q = compiledQuery(
        db.kysely,
        (k, [holder]: [string, string]) =>
          k.selectFrom('job_leases').select(['name']).where('holder', '=', holder),
        2,
      );
      await expect(q(['h1', 'x'])).rejects.toThrow(/1 of 2 arguments/);
    });
  });
}
