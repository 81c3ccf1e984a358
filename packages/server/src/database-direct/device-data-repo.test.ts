import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mariaTarget,
  pgTarget,
  TEST_MARIADB,
  type DatabaseTarget,
} from '../test-helpers/test-database-direct.js';
import { createDeviceDataRepo, type TargetDatabase } from './device-data-repo.js';

/**
 * Two replicas each keep their own pools; the first writes to a new collection may arrive at
 * both at once, and each replica then creates the same table while the other does.
 */
describe('device records written by two replicas at once', () => {
  let pgDb: DatabaseTarget;
  let mariaDb: DatabaseTarget;
  beforeAll(async () => {
    [pgDb, mariaDb] = await Promise.all([pgTarget(), mariaTarget()]);
  });
  afterAll(async () => {
    await Promise.all([pgDb?.drop(), mariaDb?.drop()]);
  });

  const targets = (): [string, TargetDatabase, DatabaseTarget][] => [
    [
      'postgresql',
      {
        type: 'postgresql',
        host: '127.0.0.1',
        address: '127.0.0.1',
        port: 5432,
        database: pgDb.name,
        username: pgDb.user,
        password: pgDb.password,
        tls: false,
        caCertificate: null,
      },
      pgDb,
    ],
    [
      'mariadb',
      {
        type: 'mariadb',
        host: TEST_MARIADB.host,
        address: TEST_MARIADB.host,
        port: TEST_MARIADB.port,
        database: mariaDb.name,
        username: mariaDb.user,
        password: mariaDb.password,
        tls: false,
        caCertificate: null,
      },
      mariaDb,
    ],
  ];

  it('ok/every record of a burst on a new collection lands, on both databases', async () => {
    for (const [type, target, db] of targets()) {
      const replicas = [createDeviceDataRepo(), createDeviceDataRepo()];
      try {
        for (let round = 0; round < 10; round++) {
          const collection = `burst_${randomBytes(4).toString('hex')}`;
          const writes = replicas.flatMap((repo) =>
            Array.from({ length: 6 }, (_, n) =>
              repo.insert('conn', 'v1', async () => target, {
                collection,
                deviceId: `dev-${n}`,
                receivedAt: new Date(),
                json: JSON.stringify({ n }),
              }),
            ),
          );
          const settled = await Promise.allSettled(writes);
          const failed = settled.filter((s) => s.status === 'rejected');
          expect(failed, `${type}: ${failed.map((f) => String(f.reason)).join('; ')}`).toEqual([]);
          expect((await db.rows(collection)).length, type).toBe(12);
        }
      } finally {
        await Promise.all(replicas.map((r) => r.close()));
      }
    }
  });
});
