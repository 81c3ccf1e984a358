import { sql, type Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';
import type { DialectName } from '../database.js';

/**
 * Counts the dashboard and the lists show, kept by the database itself so that reading them
 * costs the same with a million devices as with ten: devices per (batch, state) and
 * certificates per issuer. Triggers keep them in the same transaction as the rows they
 * count, whatever code writes those rows, so they cannot drift.
 *
 * Each count is split over 16 slots (the first hex character of the device ID or serial):
 * concurrent enrolments into one batch on PostgreSQL then update different rows instead of
 * queueing on one. Readers add the slots up.
 *
 * And the leases that let one replica of several run each background job (jobs/).
 *
 * Also the indexes the lists page through: devices newest first
 * (all, by state, by batch), device certificates newest first (all, by issuer) and the audit
 * log by action.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('job_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('device_state_counts')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('slot', 'text', (c) => c.notNull())
    .addColumn('n', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_state_counts_pk', ['instance_id', 'batch_id', 'state', 'slot'])
    .execute();
  await db.schema
    .createTable('issuer_certificate_counts')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('issuer_id', 'text', (c) => c.notNull())
    .addColumn('slot', 'text', (c) => c.notNull())
    .addColumn('n', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('issuer_certificate_counts_pk', ['instance_id', 'issuer_id', 'slot'])
    .execute();

  if (dialect === 'postgres') await postgresTriggers(db);
  else await sqliteTriggers(db);

  await sql`INSERT INTO device_state_counts (instance_id, batch_id, state, slot, n)
    SELECT instance_id, batch_id, state, substr(id, 1, 1), count(*) FROM devices
    GROUP BY instance_id, batch_id, state, substr(id, 1, 1)`.execute(db);
  await sql`INSERT INTO issuer_certificate_counts (instance_id, issuer_id, slot, n)
    SELECT instance_id, issuer_id, substr(serial, 1, 1), count(*) FROM device_certificates
    GROUP BY instance_id, issuer_id, substr(serial, 1, 1)`.execute(db);

  await db.schema
    .createIndex('devices_newest_idx')
    .on('devices')
    .columns(['instance_id', 'registered_at', 'id'])
    .execute();
  await db.schema
    .createIndex('devices_state_newest_idx')
    .on('devices')
    .columns(['instance_id', 'state', 'registered_at', 'id'])
    .execute();
  await db.schema
    .createIndex('devices_batch_oldest_idx')
    .on('devices')
    .columns(['instance_id', 'batch_id', 'registered_at', 'id'])
    .execute();
  await db.schema
    .createIndex('device_certificates_newest_idx')
    .on('device_certificates')
    .columns(['instance_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('device_certificates_issuer_newest_idx')
    .on('device_certificates')
    .columns(['instance_id', 'issuer_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('audit_log_action_idx')
    .on('audit_log')
    .columns(['instance_id', 'action', 'seq'])
    .execute();
}

/** One counting statement: add `delta` to the row of these keys, creating it at `delta`. */
const deviceCount = (row: 'NEW' | 'OLD', delta: '+ 1' | '- 1') =>
  `INSERT INTO device_state_counts AS c (instance_id, batch_id, state, slot, n)
     VALUES (${row}.instance_id, ${row}.batch_id, ${row}.state, substr(${row}.id, 1, 1), 0 ${delta})
     ON CONFLICT (instance_id, batch_id, state, slot) DO UPDATE SET n = c.n ${delta};`;
const issuerCount = (row: 'NEW' | 'OLD', delta: '+ 1' | '- 1') =>
  `INSERT INTO issuer_certificate_counts AS c (instance_id, issuer_id, slot, n)
     VALUES (${row}.instance_id, ${row}.issuer_id, substr(${row}.serial, 1, 1), 0 ${delta})
     ON CONFLICT (instance_id, issuer_id, slot) DO UPDATE SET n = c.n ${delta};`;

/**
 * PostgreSQL: inserts and deletes are counted once per statement over their transition table
 * (uploading 100,000 IDs is one upsert per counter row, not 100,000); state changes and moves,
 * which come one device at a time, per row.
 */
async function postgresTriggers(db: Kysely<unknown>): Promise<void> {
  const bulk = (fn: string, table: 'devices' | 'certs') => {
    const [target, keys, cols] =
      table === 'devices'
        ? [
            'device_state_counts',
            'instance_id, batch_id, state, slot',
            'instance_id, batch_id, state, substr(id, 1, 1)',
          ]
        : [
            'issuer_certificate_counts',
            'instance_id, issuer_id, slot',
            'instance_id, issuer_id, substr(serial, 1, 1)',
          ];
    const upsert = (rows: string, sign: string) =>
      `INSERT INTO ${target} AS c (${keys}, n)
         SELECT ${cols}, ${sign}count(*) FROM ${rows} GROUP BY ${cols}
         ON CONFLICT (${keys}) DO UPDATE SET n = c.n + EXCLUDED.n;`;
    return `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'INSERT' THEN ${upsert('new_rows', '')}
         ELSE ${upsert('old_rows', '-')} END IF;
         RETURN NULL;
       END $$`;
  };
  for (const s of [
    bulk('trustlink_count_devices_bulk', 'devices'),
    bulk('trustlink_count_certificates_bulk', 'certs'),
    `CREATE FUNCTION trustlink_count_device_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         ${deviceCount('OLD', '- 1')}
         ${deviceCount('NEW', '+ 1')}
         RETURN NULL;
       END $$`,
    `CREATE TRIGGER devices_count_insert AFTER INSERT ON devices REFERENCING NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION trustlink_count_devices_bulk()`,
    `CREATE TRIGGER devices_count_delete AFTER DELETE ON devices REFERENCING OLD TABLE AS old_rows
       FOR EACH STATEMENT EXECUTE FUNCTION trustlink_count_devices_bulk()`,
    `CREATE TRIGGER devices_count_update AFTER UPDATE OF state, batch_id ON devices
       FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.batch_id IS DISTINCT FROM NEW.batch_id)
       EXECUTE FUNCTION trustlink_count_device_change()`,
    `CREATE TRIGGER device_certificates_count_insert AFTER INSERT ON device_certificates
       REFERENCING NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION trustlink_count_certificates_bulk()`,
    `CREATE TRIGGER device_certificates_count_delete AFTER DELETE ON device_certificates
       REFERENCING OLD TABLE AS old_rows
       FOR EACH STATEMENT EXECUTE FUNCTION trustlink_count_certificates_bulk()`,
  ]) {
    await sql.raw(s).execute(db);
  }
}

async function sqliteTriggers(db: Kysely<unknown>): Promise<void> {
  // SQLite has no AS alias on the upsert target; `n` in DO UPDATE is the existing row's.
  const plain = (s: string) => s.replace(' AS c', '').replace('n = c.n', 'n = n');
  for (const s of [
    `CREATE TRIGGER devices_count_insert AFTER INSERT ON devices BEGIN
       ${plain(deviceCount('NEW', '+ 1'))} END`,
    `CREATE TRIGGER devices_count_delete AFTER DELETE ON devices BEGIN
       ${plain(deviceCount('OLD', '- 1'))} END`,
    `CREATE TRIGGER devices_count_update AFTER UPDATE OF state, batch_id ON devices
       WHEN OLD.state IS NOT NEW.state OR OLD.batch_id IS NOT NEW.batch_id BEGIN
       ${plain(deviceCount('OLD', '- 1'))} ${plain(deviceCount('NEW', '+ 1'))} END`,
    `CREATE TRIGGER device_certificates_count_insert AFTER INSERT ON device_certificates BEGIN
       ${plain(issuerCount('NEW', '+ 1'))} END`,
    `CREATE TRIGGER device_certificates_count_delete AFTER DELETE ON device_certificates BEGIN
       ${plain(issuerCount('OLD', '- 1'))} END`,
  ]) {
    await sql.raw(s).execute(db);
  }
}

export async function down(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  for (const i of [
    'devices_newest_idx',
    'devices_state_newest_idx',
    'devices_batch_oldest_idx',
    'device_certificates_newest_idx',
    'device_certificates_issuer_newest_idx',
    'audit_log_action_idx',
  ]) {
    await db.schema.dropIndex(i).execute();
  }
  for (const [t, table] of [
    ['devices_count_insert', 'devices'],
    ['devices_count_delete', 'devices'],
    ['devices_count_update', 'devices'],
    ['device_certificates_count_insert', 'device_certificates'],
    ['device_certificates_count_delete', 'device_certificates'],
  ] as const) {
    await sql
      .raw(dialect === 'postgres' ? `DROP TRIGGER ${t} ON ${table}` : `DROP TRIGGER ${t}`)
      .execute(db);
  }
  if (dialect === 'postgres') {
    for (const fn of [
      'trustlink_count_devices_bulk',
      'trustlink_count_certificates_bulk',
      'trustlink_count_device_change',
    ]) {
      await sql.raw(`DROP FUNCTION ${fn}()`).execute(db);
    }
  }
  await db.schema.dropTable('job_leases').execute();
  await db.schema.dropTable('issuer_certificate_counts').execute();
  await db.schema.dropTable('device_state_counts').execute();
}
