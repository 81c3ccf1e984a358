import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../test-helpers/test-databases.js';
import { compiledQuery } from './compiled-query.js';
import { openDatabase, type Db, type Executor } from './database.js';
import { migrateToLatest } from './migrator.js';
import { preparedStatementName, preparePostgresStatement } from './pg-prepared-statements.js';

/** The statements prepared on the connection `ex` runs on (a transaction keeps to one). */
async function prepared(ex: Executor): Promise<{ name: string; statement: string }[]> {
  const r = await sql<{
    name: string;
    statement: string;
  }>`select name, statement from pg_prepared_statements order by name`.execute(ex);
  return r.rows;
}

describe('statement names', () => {
  it('ok/one name per SQL text, the same however often it is registered', () => {
    preparePostgresStatement('select 1 where $1::int = 1');
    preparePostgresStatement('select 1 where $1::int = 1');
    preparePostgresStatement('select 2 where $1::int = 1');
    const a = preparedStatementName('select 1 where $1::int = 1');
    expect(a).toMatch(/^trustlink_[0-9a-f]{24}$/);
    expect(preparedStatementName('select 2 where $1::int = 1')).not.toBe(a);
    expect(preparedStatementName('select 3 where $1::int = 1')).toBeUndefined();
  });
});

describe('compiled queries as prepared statements on postgres', () => {
  let tdb: TestDatabase;
  let db: Db;
  let unprepared: Db;
  const byHolder = (d: Db) =>
    compiledQuery(
      d.kysely,
      (k, [holder]: [string]) =>
        k.selectFrom('job_leases').select(['name', 'expires_at']).where('holder', '=', holder),
      1,
    );

  beforeAll(async () => {
    tdb = await createTestDatabase('postgres');
    db = await openDatabase(tdb.url);
    unprepared = await openDatabase(tdb.url, { preparedStatements: false });
    await migrateToLatest(db);
    await db.kysely
      .insertInto('job_leases')
      .values({ name: 'a', holder: 'h1', expires_at: '2026-01-01T00:00:00.000Z' })
      .execute();
  });
  afterAll(async () => {
    await db.close();
    await unprepared.close();
    await tdb.drop();
  });

  it('ok/a compiled query is prepared on its connection once, under its name', async () => {
    const q = byHolder(db);
    await db.kysely.transaction().execute(async (tx) => {
      const before = await prepared(tx);
      expect(await q(['h1'], tx)).toEqual([{ name: 'a', expires_at: '2026-01-01T00:00:00.000Z' }]);
      expect(await q(['nobody'], tx)).toEqual([]);
      const after = await prepared(tx);
      const added = after.filter((p) => !before.some((b) => b.name === p.name));
      expect(added).toHaveLength(1);
      expect(added[0]!.name).toMatch(/^trustlink_/);
      expect(added[0]!.statement).toContain('"job_leases"');
    });
  });

  it('ok/other queries stay unnamed', async () => {
    await db.kysely.transaction().execute(async (tx) => {
      const before = await prepared(tx);
      await tx.selectFrom('job_leases').select('name').where('holder', '=', 'h1').execute();
      expect(await prepared(tx)).toEqual(before);
    });
  });

  it('ok/with prepared statements off nothing is prepared, and the answers are the same', async () => {
    const q = byHolder(unprepared);
    await unprepared.kysely.transaction().execute(async (tx) => {
      expect(await q(['h1'], tx)).toEqual([{ name: 'a', expires_at: '2026-01-01T00:00:00.000Z' }]);
      expect(await prepared(tx)).toEqual([]);
    });
  });

  it('err/a statement first met in an aborted transaction is prepared on the next use', async () => {
    const q = compiledQuery(
      db.kysely,
      (k, [name]: [string]) =>
        k.selectFrom('job_leases').select(['holder']).where('name', '=', name),
      1,
    );
    await db.kysely.connection().execute(async (conn) => {
      await sql`begin`.execute(conn);
      await expect(sql`select 1/0`.execute(conn)).rejects.toThrow(/division by zero/);
      await expect(q(['a'], conn)).rejects.toThrow(/current transaction is aborted/);
      await sql`rollback`.execute(conn);
      expect(await q(['a'], conn)).toEqual([{ holder: 'h1' }]);
      expect(await q(['b'], conn)).toEqual([]);
    });
  });
});

describe('a column added under a prepared statement on postgres', () => {
  let tdb: TestDatabase;
  let db: Db;

  beforeAll(async () => {
    tdb = await createTestDatabase('postgres');
    db = await openDatabase(tdb.url);
    await migrateToLatest(db);
    await db.kysely
      .insertInto('job_leases')
      .values({ name: 'a', holder: 'h1', expires_at: '2026-01-01T00:00:00.000Z' })
      .execute();
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it('err/the statement is prepared again: retried at once outside a transaction, next time inside one', async () => {
    // `select *`, as a repo's compiled read of a whole row is; another process then migrates.
    const q = compiledQuery(
      db.kysely,
      (k, [name]: [string]) => k.selectFrom('job_leases').selectAll().where('name', '=', name),
      1,
    );
    await db.kysely.connection().execute(async (conn) => {
      expect(await q(['a'], conn)).toHaveLength(1);
      await sql`alter table job_leases add column extra_1 integer`.execute(db.kysely);
      // PostgreSQL refuses the old plan ("cached plan must not change result type").
      const [row] = await q(['a'], conn);
      expect(row).toMatchObject({ name: 'a', extra_1: null });
      await sql`alter table job_leases add column extra_2 integer`.execute(db.kysely);
      await sql`begin`.execute(conn);
      await expect(q(['a'], conn)).rejects.toThrow(/cached plan must not change result type/);
      await sql`rollback`.execute(conn);
      expect((await q(['a'], conn))[0]).toMatchObject({ extra_1: null, extra_2: null });
      await sql`alter table job_leases add column extra_3 integer`.execute(db.kysely);
      expect((await q(['a'], conn))[0]).toMatchObject({ extra_3: null });
    });
  });
});
