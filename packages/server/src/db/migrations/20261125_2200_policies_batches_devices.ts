import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';
import type { DialectName } from '../database.js';

/** Policies, batches and the registered devices of each batch. */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('policies')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('connection_type', 'text', (c) => c.notNull())
    .addColumn('hub_id', 'text')
    .addColumn('database_connection_id', 'text')
    .addColumn('device_lifetime_value', 'integer', (c) => c.notNull())
    .addColumn('device_lifetime_unit', 'text', (c) => c.notNull())
    .addColumn('device_key_types', 'text', (c) => c.notNull())
    .addColumn('operational_key_allowed', 'integer', (c) => c.notNull())
    .addColumn('device_auto_renew', 'integer', (c) => c.notNull())
    .addColumn('renew_grace_value', 'integer', (c) => c.notNull())
    .addColumn('renew_grace_unit', 'text', (c) => c.notNull())
    .addColumn('issuing_lifetime_value', 'integer', (c) => c.notNull())
    .addColumn('issuing_lifetime_unit', 'text', (c) => c.notNull())
    .addColumn('issuing_key_type', 'text', (c) => c.notNull())
    .addColumn('issuing_auto_renew', 'integer', (c) => c.notNull())
    .addColumn('jwt_lifetime_value', 'integer')
    .addColumn('jwt_lifetime_unit', 'text')
    .addColumn('issuing_ca_id', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('policies_pk', ['instance_id', 'id'])
    .addUniqueConstraint('policies_name_uq', ['instance_id', 'name'])
    .execute();

  await db.schema
    .createTable('batches')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('policy_id', 'text', (c) => c.notNull())
    .addColumn('firmware_id', 'text')
    .addColumn('signing_key_id', 'text')
    .addColumn('attribute_filter', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('batches_pk', ['instance_id', 'id'])
    .addUniqueConstraint('batches_name_uq', ['instance_id', 'name'])
    .addForeignKeyConstraint('batches_policy_fk', ['instance_id', 'policy_id'], 'policies', [
      'instance_id',
      'id',
    ])
    .execute();
  await db.schema
    .createIndex('batches_policy_idx')
    .on('batches')
    .columns(['instance_id', 'policy_id'])
    .execute();

  await db.schema
    .createTable('devices')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('registered_at', t.timestamp, (c) => c.notNull())
    .addColumn('enrolled_at', t.timestamp)
    .addColumn('renewed_at', t.timestamp)
    .addColumn('revoked_at', t.timestamp)
    .addColumn('expired_at', t.timestamp)
    .addColumn('last_seen_at', t.timestamp)
    // One device belongs to one batch of one instance: the key is the device ID itself.
    .addPrimaryKeyConstraint('devices_pk', ['instance_id', 'id'])
    .addForeignKeyConstraint('devices_batch_fk', ['instance_id', 'batch_id'], 'batches', [
      'instance_id',
      'id',
    ])
    .execute();
  await db.schema
    .createIndex('devices_batch_state_idx')
    .on('devices')
    .columns(['instance_id', 'batch_id', 'state'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['devices', 'batches', 'policies'])
    await db.schema.dropTable(table).execute();
}
