import { sql, type Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';
import type { DialectName } from '../database.js';

/**
 * Firmware images (their bytes live in the blob store, named by SHA-256), their attributes,
 * the signatures made of them, the signer certificates of CMS signatures, and rollouts: one
 * update per assignment to a batch, one status row per device of it.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('firmware')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('security_version', t.bigint, (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('source_format', 'text', (c) => c.notNull())
    .addColumn('base_address', t.bigint)
    .addColumn('size', t.bigint, (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('firmware_pk', ['instance_id', 'id'])
    .addUniqueConstraint('firmware_name_uq', ['instance_id', 'name'])
    .execute();
  await db.schema
    .createIndex('firmware_sha256_idx')
    .on('firmware')
    .columns(['instance_id', 'sha256'])
    .execute();

  await db.schema
    .createTable('firmware_attributes')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('firmware_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('firmware_attributes_pk', ['instance_id', 'firmware_id', 'name'])
    .addForeignKeyConstraint(
      'firmware_attributes_firmware_fk',
      ['instance_id', 'firmware_id'],
      'firmware',
      ['instance_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('firmware_attributes_pair_idx')
    .on('firmware_attributes')
    .columns(['instance_id', 'name', 'value'])
    .execute();

  await db.schema
    .createTable('firmware_signatures')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('firmware_id', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('blob_sha256', 'text')
    .addColumn('size', t.bigint)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('firmware_signatures_pk', ['instance_id', 'id'])
    // One native signature per image, key and kind: assigning again reuses it.
    .addUniqueConstraint('firmware_signatures_uq', ['instance_id', 'firmware_id', 'key_id', 'kind'])
    .addForeignKeyConstraint(
      'firmware_signatures_firmware_fk',
      ['instance_id', 'firmware_id'],
      'firmware',
      ['instance_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('firmware_signer_certificates')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('der', t.blob, (c) => c.notNull())
    .addColumn('not_after', t.timestamp, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('firmware_signer_certificates_pk', ['instance_id', 'key_id'])
    .execute();

  await db.schema
    .createTable('firmware_updates')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('firmware_id', 'text', (c) => c.notNull())
    .addColumn('signing_key_id', 'text', (c) => c.notNull())
    .addColumn('image_sha256', 'text', (c) => c.notNull())
    .addColumn('image_size', t.bigint, (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('manifest', 'text', (c) => c.notNull())
    .addColumn('manifest_issued_at', t.timestamp, (c) => c.notNull())
    .addColumn('manifest_expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('superseded_at', t.timestamp)
    .addPrimaryKeyConstraint('firmware_updates_pk', ['instance_id', 'id'])
    .addForeignKeyConstraint(
      'firmware_updates_firmware_fk',
      ['instance_id', 'firmware_id'],
      'firmware',
      ['instance_id', 'id'],
    )
    // A deleted batch takes its rollout history with it (the audit log keeps the record).
    .addForeignKeyConstraint(
      'firmware_updates_batch_fk',
      ['instance_id', 'batch_id'],
      'batches',
      ['instance_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  // At most one current (not superseded) update per batch, even when two assignments race.
  await db.schema
    .createIndex('firmware_updates_current_uq')
    .on('firmware_updates')
    .columns(['instance_id', 'batch_id'])
    .unique()
    .where(sql.ref('superseded_at'), 'is', null)
    .execute();

  await db.schema
    .createTable('firmware_update_devices')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('update_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('downloading_at', t.timestamp)
    .addColumn('installing_at', t.timestamp)
    .addColumn('installed_at', t.timestamp)
    .addColumn('failed_at', t.timestamp)
    .addColumn('reported_at', t.timestamp)
    .addPrimaryKeyConstraint('firmware_update_devices_pk', [
      'instance_id',
      'update_id',
      'device_id',
    ])
    .addForeignKeyConstraint(
      'firmware_update_devices_update_fk',
      ['instance_id', 'update_id'],
      'firmware_updates',
      ['instance_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .addForeignKeyConstraint(
      'firmware_update_devices_device_fk',
      ['instance_id', 'device_id'],
      'devices',
      ['instance_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('firmware_update_devices_device_idx')
    .on('firmware_update_devices')
    .columns(['instance_id', 'device_id'])
    .execute();
  await db.schema
    .createIndex('firmware_update_devices_status_idx')
    .on('firmware_update_devices')
    .columns(['instance_id', 'update_id', 'status'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'firmware_update_devices',
    'firmware_updates',
    'firmware_signer_certificates',
    'firmware_signatures',
    'firmware_attributes',
    'firmware',
  ])
    await db.schema.dropTable(table).execute();
}
