import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';
import type { DialectName } from '../database.js';

/**
 * Provisioning tasks (what the console flashes onto a device and which batch its ID joins) and
 * their runs. The foreign keys keep a task's firmware and batch from disappearing under it; the
 * firmware and batch domains refuse such deletes first with a message naming the task.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('provisioning_tasks')
    .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('device_type', 'text', (c) => c.notNull())
    .addColumn('bootloader_kind', 'text', (c) => c.notNull())
    .addColumn('bootloader_firmware_id', 'text', (c) => c.notNull())
    .addColumn('partition_table_firmware_id', 'text', (c) => c.notNull())
    .addColumn('ief_firmware_id', 'text', (c) => c.notNull())
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('provisioning_tasks_pk', ['instance_id', 'id'])
    .addUniqueConstraint('provisioning_tasks_name_uq', ['instance_id', 'name'])
    .addForeignKeyConstraint(
      'provisioning_tasks_batch_fk',
      ['instance_id', 'batch_id'],
      'batches',
      ['instance_id', 'id'],
    )
    .addForeignKeyConstraint(
      'provisioning_tasks_bootloader_fk',
      ['instance_id', 'bootloader_firmware_id'],
      'firmware',
      ['instance_id', 'id'],
    )
    .addForeignKeyConstraint(
      'provisioning_tasks_partition_table_fk',
      ['instance_id', 'partition_table_firmware_id'],
      'firmware',
      ['instance_id', 'id'],
    )
    .addForeignKeyConstraint(
      'provisioning_tasks_ief_fk',
      ['instance_id', 'ief_firmware_id'],
      'firmware',
      ['instance_id', 'id'],
    )
    .execute();
  await db.schema
    .createTable('provisioning_runs')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('task_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text')
    .addColumn('reason', 'text')
    .addColumn('started_by', 'text', (c) => c.notNull())
    .addColumn('started_at', t.timestamp, (c) => c.notNull())
    .addColumn('ended_at', t.timestamp)
    .addPrimaryKeyConstraint('provisioning_runs_pk', ['instance_id', 'id'])
    .addForeignKeyConstraint(
      'provisioning_runs_task_fk',
      ['instance_id', 'task_id'],
      'provisioning_tasks',
      ['instance_id', 'id'],
    )
    .execute();
  await db.schema
    .createIndex('provisioning_runs_task_idx')
    .on('provisioning_runs')
    .columns(['instance_id', 'task_id', 'started_at'])
    .execute();
  // The abandoned-run sweep reads the runs still started, oldest first, across instances.
  await db.schema
    .createIndex('provisioning_runs_status_idx')
    .on('provisioning_runs')
    .columns(['status', 'started_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('provisioning_runs').execute();
  await db.schema.dropTable('provisioning_tasks').execute();
}
