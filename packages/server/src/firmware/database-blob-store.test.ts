import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { createInstanceRepo } from '../instances/instance-repo.js';
import { PayloadTooLargeError } from '../lib/errors.js';
import {
  createTestDatabase,
  TEST_DIALECTS,
  type TestDatabase,
} from '../test-helpers/test-databases.js';
import { createDatabaseBlobStore } from './database-blob-store.js';

async function* pieces(data: Buffer, size: number) {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
async function read(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const p of s) out.push(p);
  return Buffer.concat(out);
}

for (const dialect of TEST_DIALECTS) {
  describe(`database blob store on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;
    const i1 = randomUUID();
    const i2 = randomUUID();
    // Small chunks, so that a few hundred kilobytes cross many chunk boundaries.
    const chunkBytes = 10_000;
    let store: ReturnType<typeof createDatabaseBlobStore>;
    const data = randomBytes(123_457);
    const sha = createHash('sha256').update(data).digest('hex');
    const chunkRows = async () =>
      Number(
        (
          await db.kysely
            .selectFrom('firmware_blob_chunks')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    beforeAll(async () => {
      tdb = await createTestDatabase(dialect);
      db = await openDatabase(tdb.url);
      await migrateToLatest(db);
      const instances = createInstanceRepo(db.kysely);
      for (const id of [i1, i2])
        await instances.insert({
          id,
          name: id,
          createdAt: new Date().toISOString(),
          claimedAt: null,
        });
      store = createDatabaseBlobStore(db.kysely, { chunkBytes });
    });
    afterAll(async () => {
      await db.close();
      await tdb.drop();
    });

    it('ok/a stream is stored under its SHA-256 in chunks, once', async () => {
      expect(await store.put(i1, pieces(data, 7000))).toEqual({ sha256: sha, size: data.length });
      const rows = await chunkRows();
      expect(rows).toBe(Math.ceil(data.length / chunkBytes));
      // The same bytes again, cut differently: stored once.
      expect(await store.put(i1, pieces(data, 65536))).toEqual({ sha256: sha, size: data.length });
      expect(await chunkRows()).toBe(rows);
      expect(await store.stat(i1, sha)).toEqual({ size: data.length });
      expect(await read(await store.get(i1, sha))).toEqual(data);
    });

    it('ok/ranges are read inclusively, across chunk boundaries', async () => {
      for (const [start, end] of [
        [0, 0],
        [10, 19],
        [9_990, 10_010],
        [chunkBytes, chunkBytes * 3 - 1],
        [5, data.length - 1],
        [data.length - 1, data.length - 1],
      ] as const) {
        expect(await read(await store.get(i1, sha, { start, end }))).toEqual(
          data.subarray(start, end + 1),
        );
      }
    });

    it('ok/instances do not share blobs; odd names are simply absent', async () => {
      expect(await store.stat(i2, sha)).toBeUndefined();
      await expect(store.get(i2, sha)).rejects.toThrow(/no blob/);
      expect(await store.stat(i1, '../../etc/passwd')).toBeUndefined();
    });

    it('fail/over the limit or broken off, nothing is left', async () => {
      const before = await chunkRows();
      const big = randomBytes(50_000);
      await expect(store.put(i2, pieces(big, 1000), { maxBytes: 49_999 })).rejects.toBeInstanceOf(
        PayloadTooLargeError,
      );
      async function* broken() {
        yield randomBytes(25_000);
        throw new Error('aborted');
      }
      await expect(store.put(i2, broken())).rejects.toThrow('aborted');
      expect(await chunkRows()).toBe(before);
      const empty = await store.put(i2, pieces(Buffer.alloc(0), 1));
      expect(empty.size).toBe(0);
      expect(await read(await store.get(i2, empty.sha256))).toEqual(Buffer.alloc(0));
    });

    it('ok/chunks of an upload that never finished are removed; a blob is deleted whole', async () => {
      await db.kysely
        .insertInto('firmware_blob_chunks')
        .values({
          instance_id: i1,
          upload_id: randomUUID(),
          seq: 0,
          data: Buffer.from('left by a crash'),
          created_at: new Date(Date.now() - 3_600_000).toISOString(),
        })
        .execute();
      expect(await store.removeStaleUploads(60_000)).toBe(1);
      await store.delete(i1, sha);
      await store.delete(i1, sha);
      expect(await store.stat(i1, sha)).toBeUndefined();
      expect(await chunkRows()).toBe(0);
    });
  });
}
