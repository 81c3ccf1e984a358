import type { Selectable } from 'kysely';
import type { Executor } from '../db/database.js';
import type { BootloaderKind, DeviceType } from './provisioning-fns.js';
import type { ProvisioningTables } from './provisioning-tables.js';
import type { Run, RunStatus, TaskInput } from './provisioning-types.js';

export interface TaskRow extends TaskInput {
  id: string;
  deviceType: DeviceType;
  bootloaderKind: BootloaderKind;
  createdAt: string;
  updatedAt: string;
}

type TaskRecord = Selectable<ProvisioningTables['provisioning_tasks']>;
type RunRecord = Selectable<ProvisioningTables['provisioning_runs']>;

const toTask = (r: TaskRecord): TaskRow => ({
  id: r.id,
  name: r.name,
  deviceType: r.device_type as DeviceType,
  bootloaderKind: r.bootloader_kind as BootloaderKind,
  bootloaderFirmwareId: r.bootloader_firmware_id,
  partitionTableFirmwareId: r.partition_table_firmware_id,
  iefFirmwareId: r.ief_firmware_id,
  batchId: r.batch_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const toRun = (r: RunRecord): Run => ({
  id: r.id,
  taskId: r.task_id,
  status: r.status as RunStatus,
  deviceId: r.device_id,
  reason: r.reason,
  startedBy: r.started_by,
  startedAt: r.started_at,
  endedAt: r.ended_at,
});

const columns = (input: TaskInput) => ({
  name: input.name,
  device_type: input.deviceType,
  bootloader_kind: input.bootloaderKind,
  bootloader_firmware_id: input.bootloaderFirmwareId,
  partition_table_firmware_id: input.partitionTableFirmwareId,
  ief_firmware_id: input.iefFirmwareId,
  batch_id: input.batchId,
});

/** Provisioning tasks and their runs, of one instance. */
export function createProvisioningRepo(db: Executor) {
  return {
    async list(instanceId: string, tx: Executor = db): Promise<TaskRow[]> {
      const rows = await tx
        .selectFrom('provisioning_tasks')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .orderBy('name')
        .execute();
      return rows.map(toTask);
    },
    async find(instanceId: string, id: string, tx: Executor = db): Promise<TaskRow | undefined> {
      const r = await tx
        .selectFrom('provisioning_tasks')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? toTask(r) : undefined;
    },
    async findByName(instanceId: string, name: string): Promise<TaskRow | undefined> {
      const r = await db
        .selectFrom('provisioning_tasks')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('name', '=', name)
        .executeTakeFirst();
      return r ? toTask(r) : undefined;
    },
    async insert(instanceId: string, id: string, input: TaskInput, at: string, tx: Executor) {
      await tx
        .insertInto('provisioning_tasks')
        .values({ instance_id: instanceId, id, ...columns(input), created_at: at, updated_at: at })
        .execute();
    },
    async update(instanceId: string, id: string, input: TaskInput, at: string, tx: Executor) {
      await tx
        .updateTable('provisioning_tasks')
        .set({ ...columns(input), updated_at: at })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    /** Removes a task with its runs (the audit log keeps what they did). */
    async delete(instanceId: string, id: string, tx: Executor) {
      await tx
        .deleteFrom('provisioning_runs')
        .where('instance_id', '=', instanceId)
        .where('task_id', '=', id)
        .execute();
      await tx
        .deleteFrom('provisioning_tasks')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    /** Names of the tasks that use a firmware (in any of their three images) or a batch. */
    async namesUsing(
      instanceId: string,
      ref: { firmwareId: string } | { batchId: string },
    ): Promise<string[]> {
      let q = db
        .selectFrom('provisioning_tasks')
        .select('name')
        .where('instance_id', '=', instanceId);
      if ('batchId' in ref) q = q.where('batch_id', '=', ref.batchId);
      else
        q = q.where((eb) =>
          eb.or([
            eb('bootloader_firmware_id', '=', ref.firmwareId),
            eb('partition_table_firmware_id', '=', ref.firmwareId),
            eb('ief_firmware_id', '=', ref.firmwareId),
          ]),
        );
      return (await q.orderBy('name').execute()).map((r) => r.name);
    },

    async insertRun(instanceId: string, run: Run, tx: Executor) {
      await tx
        .insertInto('provisioning_runs')
        .values({
          instance_id: instanceId,
          id: run.id,
          task_id: run.taskId,
          status: run.status,
          device_id: run.deviceId,
          reason: run.reason,
          started_by: run.startedBy,
          started_at: run.startedAt,
          ended_at: run.endedAt,
        })
        .execute();
    },
    async findRun(instanceId: string, taskId: string, runId: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('provisioning_runs')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('task_id', '=', taskId)
        .where('id', '=', runId)
        .executeTakeFirst();
      return r ? toRun(r) : undefined;
    },
    /**
     * Ends a started run; returns false when it was no longer started (another request ended
     * it first), so a run ends exactly once.
     */
    async endRun(
      instanceId: string,
      runId: string,
      end: {
        status: 'finished' | 'failed' | 'abandoned';
        deviceId: string | null;
        reason: string | null;
        at: string;
      },
      tx: Executor,
    ): Promise<boolean> {
      const r = await tx
        .updateTable('provisioning_runs')
        .set({ status: end.status, device_id: end.deviceId, reason: end.reason, ended_at: end.at })
        .where('instance_id', '=', instanceId)
        .where('id', '=', runId)
        .where('status', '=', 'started')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** A page of a task's runs, newest first, with how many there are in all. */
    async listRuns(
      instanceId: string,
      taskId: string,
      page: { offset: number; limit: number },
    ): Promise<{ items: Run[]; total: number }> {
      const rows = await db
        .selectFrom('provisioning_runs')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('task_id', '=', taskId)
        // The id breaks ties between runs started in the same millisecond, so pages are stable.
        .orderBy('started_at', 'desc')
        .orderBy('id', 'desc')
        .offset(page.offset)
        .limit(page.limit)
        .execute();
      const count = await db
        .selectFrom('provisioning_runs')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('instance_id', '=', instanceId)
        .where('task_id', '=', taskId)
        .executeTakeFirstOrThrow();
      return { items: rows.map(toRun), total: Number(count.n) };
    },
    /** Runs of every instance still started before `before` (the browser left them), oldest first. */
    async staleRuns(before: string, limit: number, tx: Executor = db) {
      return tx
        .selectFrom('provisioning_runs')
        .innerJoin('provisioning_tasks', (j) =>
          j
            .onRef('provisioning_tasks.instance_id', '=', 'provisioning_runs.instance_id')
            .onRef('provisioning_tasks.id', '=', 'provisioning_runs.task_id'),
        )
        .select([
          'provisioning_runs.instance_id as instanceId',
          'provisioning_runs.id as id',
          'provisioning_runs.task_id as taskId',
          'provisioning_runs.started_at as startedAt',
          'provisioning_runs.started_by as startedBy',
          'provisioning_tasks.name as taskName',
        ])
        .where('provisioning_runs.status', '=', 'started')
        .where('provisioning_runs.started_at', '<', before)
        .orderBy('provisioning_runs.started_at')
        .limit(limit)
        .execute();
    },
  };
}
export type ProvisioningRepo = ReturnType<typeof createProvisioningRepo>;
