import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';
import type { DialectName } from '../database.js';

/** Auth certs (factory CAs bound to a batch) and enrolment tokens. */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('auth_certs')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('not_before', t.timestamp, (c) => c.notNull())
    .addColumn('not_after', t.timestamp, (c) => c.notNull())
    .addColumn('der', t.blob, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('auth_certs_pk', ['instance_id', 'id'])
    .addUniqueConstraint('auth_certs_fingerprint_uq', ['instance_id', 'fingerprint'])
    .addForeignKeyConstraint('auth_certs_batch_fk', ['instance_id', 'batch_id'], 'batches', [
      'instance_id',
      'id',
    ])
    .execute();

  await db.schema
    .createTable('enrolment_tokens')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('value_hash', 'text', (c) => c.notNull())
    .addColumn('not_before', t.timestamp, (c) => c.notNull())
    .addColumn('not_after', t.timestamp, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('enrolment_tokens_pk', ['instance_id', 'id'])
    .addUniqueConstraint('enrolment_tokens_name_uq', ['instance_id', 'name'])
    .addUniqueConstraint('enrolment_tokens_hash_uq', ['instance_id', 'value_hash'])
    .addForeignKeyConstraint('enrolment_tokens_batch_fk', ['instance_id', 'batch_id'], 'batches', [
      'instance_id',
      'id',
    ])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('enrolment_tokens').execute();
  await db.schema.dropTable('auth_certs').execute();
}
