import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';
import type { DialectName } from '../database.js';

/** What the platform has registered on cloud hubs (things, certificates, CAs, identities). */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('hub_cloud_objects')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('hub_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('local_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text')
    .addColumn('remote_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_cloud_objects_pk', ['instance_id', 'hub_id', 'kind', 'local_id'])
    .execute();
  await db.schema
    .createIndex('hub_cloud_objects_device_ix')
    .on('hub_cloud_objects')
    .columns(['instance_id', 'hub_id', 'device_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('hub_cloud_objects').execute();
}
