import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';
import type { DialectName } from '../database.js';

/**
 * Users, their second factor and recovery codes, sessions, sign-in challenges, API tokens,
 * sign-in throttling, and the tamper-evident audit log with its chain head and checkpoints.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  const userFk: ['instance_id', 'user_id'] = ['instance_id', 'user_id'];
  const userPk = ['instance_id', 'id'];

  await db.schema
    .createTable('users')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('username', 'text', (c) => c.notNull())
    // Lower-cased username: "Alice" and "alice" are one account, and sign-in ignores case.
    .addColumn('username_key', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('two_factor_enabled', 'integer', (c) => c.notNull())
    .addColumn('disabled_at', t.timestamp)
    .addColumn('last_login_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('users_pk', ['instance_id', 'id'])
    .addUniqueConstraint('users_username_uq', ['instance_id', 'username_key'])
    .execute();

  await db.schema
    .createTable('user_totp')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('secret', t.blob, (c) => c.notNull())
    .addColumn('last_step', t.bigint)
    .addColumn('enrolled_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('user_totp_pk', ['instance_id', 'user_id'])
    .addForeignKeyConstraint('user_totp_user_fk', userFk, 'users', userPk, (c) =>
      c.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('totp_enrolments')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('secret', t.blob, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('totp_enrolments_pk', ['instance_id', 'id'])
    .execute();

  await db.schema
    .createTable('recovery_codes')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('used_at', t.timestamp)
    .addPrimaryKeyConstraint('recovery_codes_pk', ['instance_id', 'user_id', 'code_hash'])
    .addForeignKeyConstraint('recovery_codes_user_fk', userFk, 'users', userPk, (c) =>
      c.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_seen_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('source_address', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sessions_pk', ['instance_id', 'id'])
    .addUniqueConstraint('sessions_token_uq', ['instance_id', 'token_hash'])
    .addForeignKeyConstraint('sessions_user_fk', userFk, 'users', userPk, (c) =>
      c.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('sign_in_challenges')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('enrolment_id', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('sign_in_challenges_pk', ['instance_id', 'token_hash'])
    .addForeignKeyConstraint('sign_in_challenges_user_fk', userFk, 'users', userPk, (c) =>
      c.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('hint', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_used_at', t.timestamp)
    .addColumn('revoked_at', t.timestamp)
    .addPrimaryKeyConstraint('api_tokens_pk', ['instance_id', 'id'])
    .addUniqueConstraint('api_tokens_hash_uq', ['instance_id', 'token_hash'])
    .addForeignKeyConstraint('api_tokens_user_fk', userFk, 'users', userPk, (c) =>
      c.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('auth_throttle')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('last_failure_at', t.timestamp, (c) => c.notNull())
    .addColumn('blocked_until', t.timestamp)
    .addPrimaryKeyConstraint('auth_throttle_pk', ['instance_id', 'scope', 'subject'])
    .execute();

  await db.schema
    .createTable('audit_chain')
    .addColumn('instance_id', 'text', (c) => c.primaryKey().references('instances.id'))
    .addColumn('chain_key', t.blob, (c) => c.notNull())
    .addColumn('signing_key_id', 'text', (c) => c.notNull())
    .addColumn('seq', t.bigint, (c) => c.notNull())
    .addColumn('mac', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('seq', t.bigint, (c) => c.notNull())
    .addColumn('at', t.timestamp, (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('target_name', 'text')
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('source_address', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('mac', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_log_pk', ['instance_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('audit_log_at_idx')
    .on('audit_log')
    .columns(['instance_id', 'at'])
    .execute();

  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('seq', t.bigint, (c) => c.notNull())
    .addColumn('mac', 'text', (c) => c.notNull())
    .addColumn('at', t.timestamp, (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_checkpoints_pk', ['instance_id', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'audit_checkpoints',
    'audit_log',
    'audit_chain',
    'auth_throttle',
    'api_tokens',
    'sign_in_challenges',
    'sessions',
    'recovery_codes',
    'totp_enrolments',
    'user_totp',
    'users',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
