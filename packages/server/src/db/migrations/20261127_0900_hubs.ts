import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';
import type { DialectName } from '../database.js';

/** IoT hubs (settings, sealed secrets) and the third-party tools of broker-type hubs. */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('hubs')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('secrets', t.blob, (c) => c.notNull())
    .addColumn('tools_ca_id', 'text')
    .addColumn('platform_key_id', 'text')
    .addColumn('platform_certificate_id', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('hubs_pk', ['instance_id', 'id'])
    .addUniqueConstraint('hubs_name_uq', ['instance_id', 'name'])
    .execute();

  await db.schema
    .createTable('hub_tools')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('hub_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('certificate_id', 'text', (c) => c.notNull())
    .addColumn('certificate_cn', 'text', (c) => c.notNull())
    .addColumn('key_source', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_tools_pk', ['instance_id', 'id'])
    .addUniqueConstraint('hub_tools_name_uq', ['instance_id', 'hub_id', 'name'])
    .addUniqueConstraint('hub_tools_client_uq', ['instance_id', 'client_id'])
    .addUniqueConstraint('hub_tools_certificate_uq', ['instance_id', 'certificate_id'])
    .addForeignKeyConstraint('hub_tools_hub_fk', ['instance_id', 'hub_id'], 'hubs', [
      'instance_id',
      'id',
    ])
    .addForeignKeyConstraint(
      'hub_tools_certificate_fk',
      ['instance_id', 'certificate_id'],
      'device_certificates',
      ['instance_id', 'id'],
    )
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('hub_tools').execute();
  await db.schema.dropTable('hubs').execute();
}
