import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';
import type { DialectName } from '../database.js';

/**
 * Private PKI: renewal bookkeeping of issuing CAs, device certificates (unique serial per
 * issuer), CRLs, cached OCSP responses, and the origin of keys (imported keys are listed as
 * `nohsm:`).
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .alterTable('ca_certificates')
    .addColumn('auto_renew', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('ca_certificates').addColumn('lifetime_seconds', t.bigint).execute();
  await db.schema.alterTable('ca_certificates').addColumn('lineage_id', 'text').execute();
  await db.schema.alterTable('ca_certificates').addColumn('renewed_by', 'text').execute();

  await db.schema
    .alterTable('keys')
    .addColumn('origin', 'text', (c) => c.notNull().defaultTo('generated'))
    .execute();

  await db.schema
    .createTable('device_certificates')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('issuer_id', 'text', (c) => c.notNull())
    .addColumn('serial', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('not_before', t.timestamp, (c) => c.notNull())
    .addColumn('not_after', t.timestamp, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('revocation_reason', 'text')
    .addColumn('revoked_at', t.timestamp)
    .addColumn('der', t.blob, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('device_certificates_pk', ['instance_id', 'id'])
    .addUniqueConstraint('device_certificates_serial_uq', ['instance_id', 'issuer_id', 'serial'])
    .addForeignKeyConstraint(
      'device_certificates_issuer_fk',
      ['instance_id', 'issuer_id'],
      'ca_certificates',
      ['instance_id', 'id'],
    )
    .execute();
  await db.schema
    .createIndex('device_certificates_device_idx')
    .on('device_certificates')
    .columns(['instance_id', 'device_id'])
    .execute();
  await db.schema
    .createIndex('device_certificates_status_idx')
    .on('device_certificates')
    .columns(['instance_id', 'issuer_id', 'status'])
    .execute();

  await db.schema
    .createTable('crls')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('issuer_id', 'text', (c) => c.notNull())
    .addColumn('number', t.bigint, (c) => c.notNull())
    .addColumn('this_update', t.timestamp, (c) => c.notNull())
    .addColumn('next_update', t.timestamp, (c) => c.notNull())
    .addColumn('der', t.blob, (c) => c.notNull())
    .addColumn('revision', t.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('built_revision', t.bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('crls_pk', ['instance_id', 'issuer_id'])
    .addForeignKeyConstraint('crls_issuer_fk', ['instance_id', 'issuer_id'], 'ca_certificates', [
      'instance_id',
      'id',
    ])
    .execute();

  await db.schema
    .createTable('ocsp_responses')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('issuer_id', 'text', (c) => c.notNull())
    .addColumn('serial', 'text', (c) => c.notNull())
    .addColumn('hash_alg', 'text', (c) => c.notNull())
    .addColumn('der', t.blob, (c) => c.notNull())
    .addColumn('this_update', t.timestamp, (c) => c.notNull())
    .addColumn('next_update', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('ocsp_responses_pk', [
      'instance_id',
      'issuer_id',
      'serial',
      'hash_alg',
    ])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ocsp_responses').execute();
  await db.schema.dropTable('crls').execute();
  await db.schema.dropTable('device_certificates').execute();
  await db.schema.alterTable('keys').dropColumn('origin').execute();
  for (const col of ['renewed_by', 'lineage_id', 'lifetime_seconds', 'auto_renew']) {
    await db.schema.alterTable('ca_certificates').dropColumn(col).execute();
  }
}
