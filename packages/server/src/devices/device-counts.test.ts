import { createHash } from 'node:crypto';
import { Migrator, sql, type KyselyPlugin, type Migration } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { MIGRATIONS } from '../db/migrations/index.js';
import { createInstanceRepo } from '../instances/instance-repo.js';
import { createDeviceCertRepo } from '../pki/device-cert-repo.js';
import {
  createTestDatabase,
  TEST_DIALECTS,
  type TestDatabase,
} from '../test-helpers/test-databases.js';
import { createDeviceRepo } from './device-repo.js';

const COUNTS_MIGRATION = '20261128_0100_fleet_counts';
const id = (n: number) => createHash('sha256').update(`device-${n}`).digest('hex');
const serial = (n: number) => createHash('sha256').update(`serial-${n}`).digest('hex').slice(0, 32);
const at = '2026-11-26T00:00:00.000Z';

function migrator(db: Db): Migrator {
  return new Migrator({
    db: db.kysely,
    provider: {
      getMigrations: async () =>
        Object.fromEntries(
          Object.entries(MIGRATIONS).map(([name, m]): [string, Migration] => [
            name,
            { up: (k) => m.up(k, db.dialect), down: (k) => m.down(k, db.dialect) },
          ]),
        ),
    },
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
  });
}

function deviceRow(n: number, batch: string, state: string) {
  return {
    instance_id: 'i1',
    id: id(n),
    batch_id: batch,
    state,
    registered_at: at,
    enrolled_at: null,
    renewed_at: null,
    revoked_at: null,
    expired_at: null,
    last_seen_at: null,
  };
}

function certRow(n: number, issuer: string) {
  return {
    instance_id: 'i1',
    id: `c${n}`,
    issuer_id: issuer,
    serial: serial(n),
    device_id: id(n),
    not_before: at,
    not_after: at,
    status: 'valid',
    revocation_reason: null,
    revoked_at: null,
    der: Buffer.from([0x30, 0]),
    created_at: at,
  };
}

for (const dialect of TEST_DIALECTS) {
  describe(`kept fleet counts on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;

    /** The truth the kept counts must equal: a grouped count over the rows themselves. */
    async function truth() {
      const devices = await db.kysely
        .selectFrom('devices')
        .select(['batch_id', 'state', (eb) => eb.fn.countAll<number>().as('n')])
        .where('instance_id', '=', 'i1')
        .groupBy(['batch_id', 'state'])
        .execute();
      const certs = await db.kysely
        .selectFrom('device_certificates')
        .select(['issuer_id', (eb) => eb.fn.countAll<number>().as('n')])
        .where('instance_id', '=', 'i1')
        .groupBy('issuer_id')
        .execute();
      return {
        devices: Object.fromEntries(devices.map((r) => [`${r.batch_id}/${r.state}`, Number(r.n)])),
        certs: Object.fromEntries(certs.map((r) => [r.issuer_id, Number(r.n)])),
      };
    }

    async function kept() {
      const devices = await db.kysely
        .selectFrom('device_state_counts')
        .select(['batch_id', 'state', (eb) => eb.fn.sum<number>('n').as('n')])
        .where('instance_id', '=', 'i1')
        .groupBy(['batch_id', 'state'])
        .execute();
      const certs = await createDeviceCertRepo(db.kysely).countByIssuer('i1');
      return {
        devices: Object.fromEntries(
          devices
            .filter((r) => Number(r.n) !== 0)
            .map((r) => [`${r.batch_id}/${r.state}`, Number(r.n)]),
        ),
        certs: Object.fromEntries([...certs].filter(([, n]) => n !== 0)),
      };
    }

    beforeAll(async () => {
      tdb = await createTestDatabase(dialect);
      db = await openDatabase(tdb.url);
      // Rows written before the counts existed must be counted when the migration runs.
      const m = migrator(db);
      const names = Object.keys(MIGRATIONS);
      const before = names[names.indexOf(COUNTS_MIGRATION) - 1]!;
      const r1 = await m.migrateTo(before);
      if (r1.error) throw r1.error;
      await createInstanceRepo(db.kysely).insert({
        id: 'i1',
        name: 'i1',
        createdAt: at,
        claimedAt: null,
      });
      await db.kysely
        .insertInto('keys')
        .values({
          instance_id: 'i1',
          id: 'k1',
          label: 'k1',
          algorithm: 'P-256',
          backend: 'software',
          purpose: 'issuing-ca',
          origin: 'generated',
          public_key: Buffer.from([0]),
          handle: Buffer.from([0]),
          created_at: at,
        })
        .execute();
      await db.kysely
        .insertInto('ca_certificates')
        .values(
          ['ca1', 'ca2'].map((ca) => ({
            instance_id: 'i1',
            id: ca,
            kind: 'issuing',
            name: ca,
            key_id: 'k1',
            issuer_id: null,
            serial: ca,
            subject: ca,
            not_before: at,
            not_after: at,
            der: Buffer.from([0]),
            created_at: at,
            retired_at: null,
            auto_renew: 0,
          })),
        )
        .execute();
      await db.kysely
        .insertInto('policies')
        .values({
          instance_id: 'i1',
          id: 'p1',
          name: 'p1',
          connection_type: 'iot-hub',
          hub_id: null,
          database_connection_id: null,
          device_lifetime_value: 1,
          device_lifetime_unit: 'years',
          device_key_types: '["P-256"]',
          operational_key_allowed: 0,
          device_auto_renew: 0,
          renew_grace_value: 0,
          renew_grace_unit: 'days',
          issuing_lifetime_value: 5,
          issuing_lifetime_unit: 'years',
          issuing_key_type: 'P-256',
          issuing_auto_renew: 0,
          jwt_lifetime_value: null,
          jwt_lifetime_unit: null,
          issuing_ca_id: null,
          created_at: at,
          updated_at: at,
        })
        .execute();
      await db.kysely
        .insertInto('batches')
        .values(
          ['b1', 'b2', 'b3'].map((b) => ({
            instance_id: 'i1',
            id: b,
            name: b,
            policy_id: 'p1',
            firmware_id: null,
            signing_key_id: null,
            attribute_filter: '{}',
            created_at: at,
            updated_at: at,
          })),
        )
        .execute();
      await db.kysely
        .insertInto('devices')
        .values([
          deviceRow(1, 'b1', 'registered'),
          deviceRow(2, 'b1', 'enrolled'),
          deviceRow(3, 'b2', 'revoked'),
        ])
        .execute();
      await db.kysely
        .insertInto('device_certificates')
        .values([certRow(2, 'ca1'), certRow(3, 'ca1')])
        .execute();
      const r2 = await m.migrateToLatest();
      if (r2.error) throw r2.error;
    });
    afterAll(async () => {
      await db.close();
      await tdb.drop();
    });

    it('ok/rows that existed before the migration are counted', async () => {
      expect(await kept()).toEqual(await truth());
      expect((await kept()).devices).toEqual({
        'b1/registered': 1,
        'b1/enrolled': 1,
        'b2/revoked': 1,
      });
    });

    it('ok/inserts, state changes, moves, deletes and other updates keep the counts exact', async () => {
      const rows = Array.from({ length: 300 }, (_, i) =>
        deviceRow(100 + i, i % 3 === 0 ? 'b1' : 'b2', 'registered'),
      );
      await db.kysely.insertInto('devices').values(rows).execute();
      await db.kysely
        .insertInto('device_certificates')
        .values(rows.slice(0, 120).map((_, i) => certRow(100 + i, i % 2 ? 'ca1' : 'ca2')))
        .execute();
      await db.kysely
        .updateTable('devices')
        .set({ state: 'enrolled', enrolled_at: at })
        .where(
          'id',
          'in',
          rows.slice(0, 120).map((r) => r.id),
        )
        .execute();
      // Not a state change: the counts must not move.
      await db.kysely
        .updateTable('devices')
        .set({ last_seen_at: at, state: sql`state` })
        .execute();
      await db.kysely
        .updateTable('devices')
        .set({ state: 'revoked' })
        .where(
          'id',
          'in',
          rows.slice(0, 10).map((r) => r.id),
        )
        .execute();
      await db.kysely
        .updateTable('devices')
        .set({ batch_id: 'b3' })
        .where(
          'id',
          'in',
          rows.slice(200, 230).map((r) => r.id),
        )
        .execute();
      await db.kysely
        .deleteFrom('devices')
        .where('batch_id', '=', 'b2')
        .where('state', '=', 'registered')
        .execute();
      await db.kysely
        .deleteFrom('device_certificates')
        .where('id', 'in', ['c100', 'c101'])
        .execute();
      expect(await kept()).toEqual(await truth());
    });

    it('ok/a rolled-back transaction leaves the counts as they were', async () => {
      const before = await kept();
      await db.kysely
        .transaction()
        .execute(async (tx) => {
          await tx
            .insertInto('devices')
            .values(deviceRow(999, 'b1', 'registered'))
            .execute();
          await tx
            .updateTable('devices')
            .set({ state: 'expired' })
            .where('batch_id', '=', 'b1')
            .execute();
          throw new Error('rollback');
        })
        .catch(() => undefined);
      expect(await kept()).toEqual(before);
      expect(await kept()).toEqual(await truth());
    });

    it('ok/list totals and batch counts come out equal to counting the rows', async () => {
      const repo = createDeviceRepo(db.kysely);
      const t = await truth();
      const sum = (pred: (k: string) => boolean) =>
        Object.entries(t.devices).reduce((a, [k, n]) => a + (pred(k) ? n : 0), 0);
      expect((await repo.list('i1', { offset: 0, limit: 5 })).total).toBe(sum(() => true));
      expect((await repo.list('i1', { offset: 0, limit: 5, state: 'enrolled' })).total).toBe(
        sum((k) => k.endsWith('/enrolled')),
      );
      expect((await repo.listByBatch('i1', 'b1', { offset: 0, limit: 5 })).total).toBe(
        sum((k) => k.startsWith('b1/')),
      );
      const counts = await repo.countsByBatch('i1');
      expect(counts.get('b3')?.devices).toBe(sum((k) => k.startsWith('b3/')));
      // A prefix search counts the rows themselves, through the primary key.
      const prefix = id(100).slice(0, 2);
      const matching = (await db.kysely.selectFrom('devices').select('id').execute()).filter((r) =>
        r.id.startsWith(prefix),
      ).length;
      // Pages fetched in two steps keep the order: consecutive pages make up the whole list.
      const all = await repo.list('i1', { offset: 0, limit: 1000 });
      const pages = [];
      for (let offset = 0; offset < all.items.length; offset += 7) {
        pages.push(...(await repo.list('i1', { offset, limit: 7 })).items);
      }
      expect(pages.map((d) => d.id)).toEqual(all.items.map((d) => d.id));
      const inBatch = await repo.listByBatch('i1', 'b1', { offset: 3, limit: 5 });
      const batchAll = await repo.listByBatch('i1', 'b1', { offset: 0, limit: 1000 });
      expect(inBatch.items.map((d) => d.id)).toEqual(batchAll.items.slice(3, 8).map((d) => d.id));
      const page = await repo.list('i1', { offset: 0, limit: 1000, q: prefix.toUpperCase() });
      expect(page.total).toBe(matching);
      expect(page.items.every((d) => d.id.startsWith(prefix))).toBe(true);
      // A page past the end is empty and still tells the total.
      expect(await repo.list('i1', { offset: 100_000, limit: 5 })).toEqual({
        items: [],
        total: sum(() => true),
      });
      expect(await repo.listByBatch('i1', 'nope', { offset: 0, limit: 5 })).toEqual({
        items: [],
        total: 0,
      });
    });

    it('ok/a page and its total cost one statement, first page or deep', async () => {
      let statements = 0;
      const counting: KyselyPlugin = {
        // Subqueries pass transformQuery too; a result comes back once per statement run.
        transformQuery: (args) => args.node,
        transformResult: async (args) => {
          statements++;
          return args.result;
        },
      };
      const repo = createDeviceRepo(db.kysely.withPlugin(counting));
      const all = await repo.list('i1', { offset: 0, limit: 1000 });
      const cases = [
        () => repo.list('i1', { offset: 0, limit: 20 }),
        () => repo.list('i1', { offset: 40, limit: 20, state: 'enrolled' }),
        () => repo.list('i1', { offset: 0, limit: 20, q: id(100).slice(0, 1) }),
        () => repo.listByBatch('i1', 'b1', { offset: 0, limit: 20 }),
        () => repo.listByBatch('i1', 'b3', { offset: 10, limit: 20 }),
      ];
      for (const c of cases) {
        statements = 0;
        const r = await c();
        expect(r.items.length).toBeGreaterThan(0);
        expect(statements).toBe(1);
      }
      statements = 0;
      expect((await repo.list('i1', { offset: 0, limit: 20 })).total).toBe(all.total);
    });

    it('ok/the migration goes down and up again', async () => {
      const m = migrator(db);
      const names = Object.keys(MIGRATIONS);
      // Down to just before the counts (later migrations go down with them), then up again.
      const down = await m.migrateTo(names[names.indexOf(COUNTS_MIGRATION) - 1]!);
      if (down.error) throw down.error;
      expect(down.results?.map((r) => r.migrationName)).toContain(COUNTS_MIGRATION);
      const tables = (await db.kysely.introspection.getTables()).map((t) => t.name);
      expect(tables).not.toContain('device_state_counts');
      const up = await m.migrateToLatest();
      if (up.error) throw up.error;
      expect(await kept()).toEqual(await truth());
    });
  });
}
