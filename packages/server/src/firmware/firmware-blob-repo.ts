import type { Executor } from '../db/database.js';

export interface BlobRow {
  size: number;
  uploadId: string;
  chunkSize: number;
}

/** SQL of the database blob store (database-blob-store.ts). */
export function createFirmwareBlobRepo(db: Executor) {
  return {
    async find(instanceId: string, sha256: string): Promise<BlobRow | undefined> {
      const r = await db
        .selectFrom('firmware_blobs')
        .select(['size', 'upload_id', 'chunk_size'])
        .where('instance_id', '=', instanceId)
        .where('sha256', '=', sha256)
        .executeTakeFirst();
      return r
        ? { size: Number(r.size), uploadId: r.upload_id, chunkSize: Number(r.chunk_size) }
        : undefined;
    },
    async insertChunk(
      instanceId: string,
      uploadId: string,
      seq: number,
      data: Buffer,
      at: string,
    ): Promise<void> {
      await db
        .insertInto('firmware_blob_chunks')
        .values({ instance_id: instanceId, upload_id: uploadId, seq, data, created_at: at })
        .execute();
    },
    /** Chunks `from`..`to` (inclusive) of an upload, in order. */
    async chunks(instanceId: string, uploadId: string, from: number, to: number) {
      const rows = await db
        .selectFrom('firmware_blob_chunks')
        .select(['seq', 'data'])
        .where('instance_id', '=', instanceId)
        .where('upload_id', '=', uploadId)
        .where('seq', '>=', from)
        .where('seq', '<=', to)
        .orderBy('seq')
        .execute();
      return rows.map((r) => ({ seq: Number(r.seq), data: Buffer.from(r.data) }));
    },
    /**
     * Makes an upload the blob of its digest, unless that blob exists already (same bytes);
     * returns whether it did. In one transaction with `dropUpload` by the caller.
     */
    async publish(instanceId: string, sha256: string, row: BlobRow, at: string): Promise<boolean> {
      const r = await db
        .insertInto('firmware_blobs')
        .values({
          instance_id: instanceId,
          sha256,
          size: row.size,
          upload_id: row.uploadId,
          chunk_size: row.chunkSize,
          created_at: at,
        })
        .onConflict((oc) => oc.columns(['instance_id', 'sha256']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async dropUpload(instanceId: string, uploadId: string): Promise<void> {
      await db
        .deleteFrom('firmware_blob_chunks')
        .where('instance_id', '=', instanceId)
        .where('upload_id', '=', uploadId)
        .execute();
    },
    async deleteBlob(instanceId: string, sha256: string): Promise<string | undefined> {
      const r = await db
        .deleteFrom('firmware_blobs')
        .where('instance_id', '=', instanceId)
        .where('sha256', '=', sha256)
        .returning('upload_id')
        .executeTakeFirst();
      return r?.upload_id;
    },
    /** Chunks older than `before` that belong to no blob (uploads that never finished). */
    async dropOrphanChunks(before: string): Promise<number> {
      const r = await db
        .deleteFrom('firmware_blob_chunks')
        .where('created_at', '<', before)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('firmware_blobs')
                .select('firmware_blobs.sha256')
                .whereRef('firmware_blobs.instance_id', '=', 'firmware_blob_chunks.instance_id')
                .whereRef('firmware_blobs.upload_id', '=', 'firmware_blob_chunks.upload_id'),
            ),
          ),
        )
        .executeTakeFirst();
      return Number(r.numDeletedRows ?? 0);
    },
  };
}
