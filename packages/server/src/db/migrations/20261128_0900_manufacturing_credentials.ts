import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';
import type { DialectName } from '../database.js';

/** Manufacturing credentials: production-line stations add device IDs to one batch. */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('manufacturing_credentials')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('hint', 'text', (c) => c.notNull())
    .addColumn('not_after', t.timestamp, (c) => c.notNull())
    .addColumn('max_devices', 'integer', (c) => c.notNull())
    .addColumn('used_devices', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('last_used_at', t.timestamp)
    .addPrimaryKeyConstraint('manufacturing_credentials_pk', ['instance_id', 'id'])
    .addUniqueConstraint('manufacturing_credentials_hash_uq', ['instance_id', 'secret_hash'])
    .addForeignKeyConstraint(
      'manufacturing_credentials_batch_fk',
      ['instance_id', 'batch_id'],
      'batches',
      ['instance_id', 'id'],
    )
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('manufacturing_credentials').execute();
}
