import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { createPkiJobs } from '../pki/pki-jobs.js';
import {
  createTestDatabase,
  TEST_DIALECTS,
  type TestDatabase,
} from '../test-helpers/test-databases.js';
import { createJobLeases } from './job-leases.js';

for (const dialect of TEST_DIALECTS) {
  describe(`job leases on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let clock = new Date('2026-11-26T00:00:00.000Z');
    const now = () => clock;
    const replica = (holder: string) =>
      createJobLeases({ db: db.kysely, holder, ttlMs: 60_000, now });

    beforeAll(async () => {
      tdb = await createTestDatabase(dialect);
      db = await openDatabase(tdb.url);
      await migrateToLatest(db);
    });
    afterAll(async () => {
      await db.close();
      await tdb.drop();
    });

    it('ok/one replica runs a job, the other skips it, until the holder stops extending', async () => {
      const a = replica('a');
      const b = replica('b');
      expect(await a.run('renewal', async () => 'ran on a')).toBe('ran on a');
      expect(await b.run('renewal', async () => 'ran on b')).toBeUndefined();
      // The holder extends its lease each time it runs the job.
      clock = new Date(clock.getTime() + 50_000);
      expect(await a.run('renewal', async () => 'again on a')).toBe('again on a');
      clock = new Date(clock.getTime() + 50_000);
      expect(await b.run('renewal', async () => 'ran on b')).toBeUndefined();
      // a stops: once its lease runs out, b takes over, and a is then the one that skips.
      clock = new Date(clock.getTime() + 61_000);
      expect(await b.run('renewal', async () => 'ran on b')).toBe('ran on b');
      expect(await a.run('renewal', async () => 'ran on a')).toBeUndefined();
      expect(await b.holderOf('renewal')).toMatchObject({ holder: 'b' });
      // Leases are per job: another job is free.
      expect(await a.run('crl', async () => 'crl on a')).toBe('crl on a');
    });

    it('ok/a released lease is taken at once', async () => {
      const a = replica('a2');
      const b = replica('b2');
      expect(await a.run('sweep', async () => 1)).toBe(1);
      await a.releaseAll();
      expect(await b.run('sweep', async () => 2)).toBe(2);
    });

    it('ok/many replicas racing for a free lease: exactly one wins', async () => {
      const replicas = Array.from({ length: 12 }, (_, i) => replica(`r${i}`));
      const ran: number[] = [];
      await Promise.all(
        replicas.map((r, i) =>
          r.run('race', async () => {
            ran.push(i);
          }),
        ),
      );
      expect(ran).toHaveLength(1);
    });

    it('ok/the PKI timer runs its jobs only where the lease is held', async () => {
      const runs: string[] = [];
      const jobsOf = (name: string) =>
        createPkiJobs({
          issuingCas: {
            renewDue: async () => {
              runs.push(name);
              return [];
            },
          },
          crl: { rebuildDue: async () => 0 },
          lease: replica(name).run,
          intervalMs: 3_600_000,
        });
      const one = jobsOf('pki-a');
      const two = jobsOf('pki-b');
      one.start();
      two.start();
      await one.stop();
      await two.stop();
      expect(runs).toHaveLength(1);
    });
  });
}
