import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { NotFoundError, PayloadTooLargeError } from '../lib/errors.js';
import type { FirmwareBlobStore, StoredBlob } from './blob-store.js';
import { createFirmwareBlobRepo } from './firmware-blob-repo.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Bytes per row: small enough to stream, large enough that a 100 MB image is 400 rows. */
export const BLOB_CHUNK_BYTES = 256 * 1024;
/** Rows fetched per query when reading (1 MiB): fewer round trips, bounded memory. */
const CHUNKS_PER_READ = 4;

/**
 * Blobs in the database (PostgreSQL), for replicas that share no disk: each upload is written
 * as numbered chunks while it is hashed, with no more than one chunk in memory, and becomes
 * visible under its digest only when a row in `firmware_blobs` names it, written after the
 * last chunk. A failed upload removes its chunks; a crashed one leaves chunks that no blob
 * names, which `removeStaleUploads` deletes. Reads stream chunk by chunk, from the chunk
 * holding the first byte of a range.
 */
export function createDatabaseBlobStore(
  db: Kysely<Database>,
  opts: { chunkBytes?: number; now?: () => Date } = {},
): FirmwareBlobStore & { removeStaleUploads(olderThanMs: number): Promise<number> } {
  const repo = createFirmwareBlobRepo(db);
  const chunkBytes = opts.chunkBytes ?? BLOB_CHUNK_BYTES;
  const now = opts.now ?? (() => new Date());

  async function put(
    instanceId: string,
    source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
    putOpts: { maxBytes?: number } = {},
  ): Promise<StoredBlob> {
    const uploadId = randomUUID();
    const max = putOpts.maxBytes ?? Number.MAX_SAFE_INTEGER;
    const hash = createHash('sha256');
    const at = now().toISOString();
    let size = 0;
    let seq = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (all: boolean) => {
      while (pendingBytes >= chunkBytes || (all && pendingBytes > 0)) {
        const joined = Buffer.concat(pending);
        const chunk = joined.subarray(0, chunkBytes);
        const rest = joined.subarray(chunk.length);
        await repo.insertChunk(instanceId, uploadId, seq++, Buffer.from(chunk), at);
        pending = rest.length ? [Buffer.from(rest)] : [];
        pendingBytes = rest.length;
      }
    };
    try {
      for await (const piece of source) {
        const buf = typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece);
        size += buf.length;
        if (size > max)
          throw new PayloadTooLargeError(`the image is larger than the limit of ${max} bytes`);
        hash.update(buf);
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= chunkBytes) await flush(false);
      }
      await flush(true);
      const sha256 = hash.digest('hex');
      await db.transaction().execute(async (tx) => {
        const r = createFirmwareBlobRepo(tx);
        const published = await r.publish(
          instanceId,
          sha256,
          { size, uploadId, chunkSize: chunkBytes },
          at,
        );
        // The same bytes were stored before: keep those, drop this copy.
        if (!published) await r.dropUpload(instanceId, uploadId);
      });
      return { sha256, size };
    } catch (err) {
      await repo.dropUpload(instanceId, uploadId).catch(() => undefined);
      throw err;
    }
  }

  async function stat(instanceId: string, sha256: string) {
    if (!SHA256_HEX.test(sha256)) return undefined;
    const row = await repo.find(instanceId, sha256);
    return row ? { size: row.size } : undefined;
  }

  return {
    put,
    stat,
    async get(instanceId, sha256, range) {
      const row = SHA256_HEX.test(sha256) ? await repo.find(instanceId, sha256) : undefined;
      if (!row) throw new NotFoundError(`no blob ${sha256}`);
      const start = range?.start ?? 0;
      const end = Math.min(range?.end ?? row.size - 1, row.size - 1);
      const first = Math.floor(start / row.chunkSize);
      const last = end < start ? first - 1 : Math.floor(end / row.chunkSize);
      async function* chunks(): AsyncGenerator<Buffer> {
        for (let from = first; from <= last; from += CHUNKS_PER_READ) {
          const rows = await repo.chunks(
            instanceId,
            row!.uploadId,
            from,
            Math.min(from + CHUNKS_PER_READ - 1, last),
          );
          for (const c of rows) {
            const offset = c.seq * row!.chunkSize;
            const lo = Math.max(start - offset, 0);
            const hi = Math.min(end - offset + 1, c.data.length);
            if (hi > lo) yield c.data.subarray(lo, hi);
          }
        }
      }
      return Readable.from(chunks(), { objectMode: false });
    },
    async delete(instanceId, sha256) {
      if (!SHA256_HEX.test(sha256)) return;
      await db.transaction().execute(async (tx) => {
        const r = createFirmwareBlobRepo(tx);
        const uploadId = await r.deleteBlob(instanceId, sha256);
        if (uploadId) await r.dropUpload(instanceId, uploadId);
      });
    },
    async removeStaleUploads(olderThanMs) {
      return repo.dropOrphanChunks(new Date(now().getTime() - olderThanMs).toISOString());
    },
  };
}
