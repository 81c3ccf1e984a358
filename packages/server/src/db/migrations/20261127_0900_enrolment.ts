import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';
import type { DialectName } from '../database.js';

/**
 * Enrolment and the device lifecycle: each device's current certificate and renewal times, the
 * challenge key of each instance (sealed) with the nonces already used, device bearer
 * sessions, and the key and certificate that sign time statements.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  const devices = () => db.schema.alterTable('devices');
  await devices().addColumn('current_cert_id', 'text').execute();
  await devices().addColumn('current_serial', 'text').execute();
  await devices().addColumn('cert_not_after', t.timestamp).execute();
  await devices().addColumn('renew_at', t.timestamp).execute();
  await devices().addColumn('enrol_method', 'text').execute();
  await devices().addColumn('key_type', 'text').execute();
  // The CSR of the current certificate: auto-renewal re-issues for the same key from it.
  await devices().addColumn('csr', t.blob).execute();
  // As the device reports it at check-in; never attested.
  await devices().addColumn('firmware_digest', 'text').execute();
  await devices().addColumn('revocation_reason', 'text').execute();
  // The lifecycle job looks for certificates due for renewal and for expired ones.
  await db.schema
    .createIndex('devices_renew_idx')
    .on('devices')
    .columns(['state', 'renew_at'])
    .execute();
  await db.schema
    .createIndex('devices_expiry_idx')
    .on('devices')
    .columns(['state', 'cert_not_after'])
    .execute();

  await db.schema
    .createTable('challenge_keys')
    .addColumn('instance_id', 'text', (c) => c.primaryKey().references('instances.id'))
    .addColumn('secret', t.blob, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('used_nonces')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('nonce_hash', 'text', (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('used_nonces_pk', ['instance_id', 'nonce_hash'])
    .execute();
  await db.schema
    .createIndex('used_nonces_expiry_idx')
    .on('used_nonces')
    .column('expires_at')
    .execute();

  await db.schema
    .createTable('device_sessions')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('device_sessions_pk', ['instance_id', 'id'])
    .addUniqueConstraint('device_sessions_token_uq', ['instance_id', 'token_hash'])
    .addForeignKeyConstraint('device_sessions_device_fk', ['instance_id', 'device_id'], 'devices', [
      'instance_id',
      'id',
    ])
    .execute();
  await db.schema
    .createIndex('device_sessions_device_idx')
    .on('device_sessions')
    .columns(['instance_id', 'device_id'])
    .execute();
  await db.schema
    .createIndex('device_sessions_expiry_idx')
    .on('device_sessions')
    .column('expires_at')
    .execute();

  await db.schema
    .createTable('time_signers')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('der', t.blob, (c) => c.notNull())
    .addColumn('not_after', t.timestamp, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('time_signers_pk', ['instance_id', 'id'])
    .addForeignKeyConstraint('time_signers_key_fk', ['instance_id', 'key_id'], 'keys', [
      'instance_id',
      'id',
    ])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['time_signers', 'device_sessions', 'used_nonces', 'challenge_keys'])
    await db.schema.dropTable(table).execute();
  await db.schema.dropIndex('devices_expiry_idx').execute();
  await db.schema.dropIndex('devices_renew_idx').execute();
  for (const col of [
    'revocation_reason',
    'firmware_digest',
    'csr',
    'key_type',
    'enrol_method',
    'renew_at',
    'cert_not_after',
    'current_serial',
    'current_cert_id',
  ])
    await db.schema.alterTable('devices').dropColumn(col).execute();
}
