import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { createInstanceRepo } from '../instances/instance-repo.js';
import {
  createTestDatabase,
  TEST_DIALECTS,
  type TestDatabase,
} from '../test-helpers/test-databases.js';
import { createOutboxRepo, type OutboxEntry, type OutboxRepo } from './outbox-repo.js';
import { backoffMs, createOutboxWorker } from './outbox-worker.js';

/** A real pino logger (its methods need their `this`), keeping what it writes. */
const logged: { level: number; msg: string; attempts?: number }[] = [];
const log = pino(
  { level: 'warn' },
  { write: (line: string) => void logged.push(JSON.parse(line)) },
);

for (const dialect of TEST_DIALECTS) {
  describe(`outbox on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let repo: OutboxRepo;
    let clock: Date;
    const now = () => clock;

    beforeAll(async () => {
      tdb = await createTestDatabase(dialect);
      db = await openDatabase(tdb.url);
      await migrateToLatest(db);
      for (const id of ['i1', 'i2']) {
        await createInstanceRepo(db.kysely).insert({
          id,
          name: id,
          createdAt: new Date().toISOString(),
          claimedAt: null,
        });
      }
      repo = createOutboxRepo(db.kysely, db.dialect);
    });
    beforeEach(async () => {
      clock = new Date('2026-11-25T12:00:00.000Z');
      await db.kysely.deleteFrom('outbox').execute();
    });
    afterAll(async () => {
      await db.close();
      await tdb.drop();
    });

    it('ok/a kick during a run runs once more after it: an intent committed meanwhile is not left to the next tick', async () => {
      const seen: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const w = createOutboxWorker({ repo, log, now });
      w.register('t', async (e) => {
        seen.push(e.subject);
        if (e.subject === 'first') await held;
      });
      w.start(3_600_000); // a tick an hour away: only the kicks can run anything in time
      try {
        await repo.enqueue(
          db.kysely,
          { instanceId: 'i1', topic: 't', subject: 'first', payload: {} },
          clock,
        );
        w.kick();
        await expect.poll(() => seen).toEqual(['first']);
        // Committed after the running claim took its entries; kicked (twice) while it runs.
        await repo.enqueue(
          db.kysely,
          { instanceId: 'i1', topic: 't', subject: 'second', payload: {} },
          clock,
        );
        w.kick();
        w.kick();
        release();
        await expect.poll(() => seen).toEqual(['first', 'second']);
      } finally {
        release();
        await w.stop();
      }
    });

    it('ok/an intent written in a rolled-back transaction never runs', async () => {
      await db.kysely
        .transaction()
        .execute(async (tx) => {
          await repo.enqueue(
            tx,
            { instanceId: 'i1', topic: 't', subject: 'd1', payload: {} },
            clock,
          );
          throw new Error('rollback');
        })
        .catch(() => undefined);
      const seen: OutboxEntry[] = [];
      const w = createOutboxWorker({ repo, log, now });
      w.register('t', async (e) => void seen.push(e));
      expect(await w.runOnce()).toBe(0);
      expect(seen).toHaveLength(0);
    });

    it('ok/a committed intent runs once, with its payload, and is marked done', async () => {
      await db.kysely
        .transaction()
        .execute((tx) =>
          repo.enqueue(
            tx,
            { instanceId: 'i1', topic: 't', subject: 'd1', payload: { a: 1 } },
            clock,
          ),
        );
      const seen: OutboxEntry[] = [];
      const w = createOutboxWorker({ repo, log, now });
      w.register('t', async (e) => void seen.push(e));
      expect(await w.runOnce()).toBe(1);
      expect(await w.runOnce()).toBe(0);
      expect(seen.map((e) => e.payload)).toEqual([{ a: 1 }]);
      const [state] = await repo.forSubject('i1', 'd1');
      expect(state).toMatchObject({ status: 'done', attempts: 1, lastError: null });
      expect(await repo.forSubject('i2', 'd1')).toHaveLength(0);
    });

    it('ok/failures retry with backoff, then give up and say why', async () => {
      await repo.enqueue(
        db.kysely,
        { instanceId: 'i1', topic: 't', subject: 'd2', payload: null },
        clock,
      );
      let calls = 0;
      logged.length = 0;
      const w = createOutboxWorker({ repo, log, now, maxAttempts: 3 });
      w.register('t', async () => {
        calls++;
        throw new Error(`hub unreachable #${calls}`);
      });
      expect(await w.runOnce()).toBe(1);
      expect(await w.runOnce()).toBe(0); // not due before its backoff
      clock = new Date(clock.getTime() + backoffMs(1));
      expect(await w.runOnce()).toBe(1);
      clock = new Date(clock.getTime() + backoffMs(2));
      expect(await w.runOnce()).toBe(1);
      clock = new Date(clock.getTime() + backoffMs(10));
      expect(await w.runOnce()).toBe(0);
      const [state] = await repo.forSubject('i1', 'd2');
      expect(state).toMatchObject({
        status: 'failed',
        attempts: 3,
        lastError: 'hub unreachable #3',
      });
      expect(logged.map((l) => [l.level, l.attempts, l.msg])).toEqual([
        [40, 1, 'outbox entry failed; will retry'],
        [40, 2, 'outbox entry failed; will retry'],
        [50, 3, 'outbox entry failed for good'],
      ]);
    });

    it('ok/an entry leased by a worker that died is taken over after the lease', async () => {
      await repo.enqueue(
        db.kysely,
        { instanceId: 'i1', topic: 't', subject: 'd3', payload: null },
        clock,
      );
      const lost = await repo.claimDue(clock, 60_000, 10);
      expect(lost).toHaveLength(1);
      expect(await repo.claimDue(clock, 60_000, 10)).toHaveLength(0);
      clock = new Date(clock.getTime() + 61_000);
      expect(await repo.claimDue(clock, 60_000, 10)).toHaveLength(1);
    });

    it('ok/concurrent claims never hand one entry to two workers', async () => {
      for (let i = 0; i < 40; i++)
        await repo.enqueue(
          db.kysely,
          { instanceId: 'i1', topic: 't', subject: `c${i}`, payload: i },
          clock,
        );
      const claims = await Promise.all(
        Array.from({ length: 4 }, () => repo.claimDue(clock, 60_000, 15)),
      );
      const ids = claims.flat().map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(40);
    });
  });
}
