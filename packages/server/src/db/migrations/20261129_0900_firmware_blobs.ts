import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';
import type { DialectName } from '../database.js';

/** Firmware images in the database, in chunks, for replicas that share no disk. */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('firmware_blobs')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('size', t.bigint, (c) => c.notNull())
    .addColumn('upload_id', 'text', (c) => c.notNull())
    .addColumn('chunk_size', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('firmware_blobs_pk', ['instance_id', 'sha256'])
    .execute();
  await db.schema
    .createTable('firmware_blob_chunks')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('upload_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', t.blob, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('firmware_blob_chunks_pk', ['instance_id', 'upload_id', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('firmware_blob_chunks').execute();
  await db.schema.dropTable('firmware_blobs').execute();
}
