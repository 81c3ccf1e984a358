import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { createDeviceLifecycleRepo } from '../devices/device-lifecycle-repo.js';
import { createDeviceRepo } from '../devices/device-repo.js';
import { createInstanceRepo } from '../instances/instance-repo.js';
import {
  createTestDatabase,
  TEST_DIALECTS,
  type TestDatabase,
} from '../test-helpers/test-databases.js';
import { createCheckInRecorder } from './check-in-recorder.js';

const at = '2026-11-26T00:00:00.000Z';
const id = (n: number) => `dev-${String(n).padStart(4, '0')}`;
const digest = (c: string) => c.repeat(64);

for (const dialect of TEST_DIALECTS) {
  describe(`check-in recorder on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;

    beforeAll(async () => {
      tdb = await createTestDatabase(dialect);
      db = await openDatabase(tdb.url);
      await migrateToLatest(db);
      await createInstanceRepo(db.kysely).insert({
        id: 'i1',
        name: 'i1',
        createdAt: at,
        claimedAt: null,
      });
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
        .values({
          instance_id: 'i1',
          id: 'b1',
          name: 'b1',
          policy_id: 'p1',
          firmware_id: null,
          signing_key_id: null,
          attribute_filter: '{}',
          created_at: at,
          updated_at: at,
        })
        .execute();
      // More devices than one flush transaction takes, so a flush spans several.
      const ids = Array.from({ length: 1203 }, (_, i) => id(i));
      await db.kysely
        .transaction()
        .execute((tx) => createDeviceRepo(db.kysely).insertRegistered('i1', 'b1', ids, at, tx));
    });
    afterAll(async () => {
      await db.close();
      await tdb.drop();
    });

    it('ok/a flush writes every device checked in, in chunked transactions, and keeps the reported firmware', async () => {
      let clock = new Date('2026-11-26T10:00:00.000Z');
      const transactions: number[] = [];
      const lifecycle = createDeviceLifecycleRepo(db.kysely);
      const recorder = createCheckInRecorder({
        lifecycle,
        transaction: async (fn) => {
          transactions.push(transactions.length);
          return db.kysely.transaction().execute(fn);
        },
        now: () => clock,
      });
      for (let i = 0; i < 1203; i++) recorder.record('i1', id(i), i % 2 ? digest('a') : undefined);
      // A later check-in without a digest keeps the one reported earlier in the interval.
      clock = new Date('2026-11-26T10:00:05.000Z');
      recorder.record('i1', id(1));
      expect(await recorder.flush()).toBe(1203);
      expect(transactions.length).toBe(3);

      const rows = await db.kysely
        .selectFrom('devices')
        .select(['id', 'last_seen_at', 'firmware_digest'])
        .where('instance_id', '=', 'i1')
        .orderBy('id')
        .execute();
      expect(rows).toHaveLength(1203);
      expect(rows.every((r) => r.last_seen_at !== null)).toBe(true);
      expect(rows[0]).toEqual({
        id: id(0),
        last_seen_at: '2026-11-26T10:00:00.000Z',
        firmware_digest: null,
      });
      expect(rows[1]).toEqual({
        id: id(1),
        last_seen_at: '2026-11-26T10:00:05.000Z',
        firmware_digest: digest('a'),
      });
      expect(rows.filter((r) => r.firmware_digest === digest('a'))).toHaveLength(601);

      // A later flush writes only what came since, and changes a digest a device reports anew.
      clock = new Date('2026-11-26T10:00:30.000Z');
      recorder.record('i1', id(0), digest('b'));
      expect(await recorder.flush()).toBe(1);
      expect(await recorder.flush()).toBe(0);
      const d0 = await createDeviceRepo(db.kysely).find('i1', id(0));
      expect(d0).toMatchObject({
        lastSeenAt: '2026-11-26T10:00:30.000Z',
        firmwareDigest: digest('b'),
      });
      const d2 = await createDeviceRepo(db.kysely).find('i1', id(2));
      expect(d2?.lastSeenAt).toBe('2026-11-26T10:00:00.000Z');
    });
  });
}
