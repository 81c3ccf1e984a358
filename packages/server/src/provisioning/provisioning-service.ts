import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import { recordChange } from '../audit/record-change.js';
import type { BatchRow } from '../batches/batch-repo.js';
import type { Db } from '../db/database.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/db-errors.js';
import type { Firmware } from '../firmware/firmware-types.js';
import { BadRequestError, ConflictError, NotFoundError } from '../lib/errors.js';
import { checkImages, checkSigningKey, type Check } from './provisioning-fns.js';
import type { ProvisioningRepo, TaskRow } from './provisioning-repo.js';
import type { Task, TaskInput } from './provisioning-types.js';

/** What the task service needs of the firmware, batch and signing-key domains. */
export interface ProvisioningRefs {
  /** The firmware, or undefined when there is none with this id. */
  firmware(instanceId: string, id: string): Promise<Firmware | undefined>;
  batch(instanceId: string, id: string): Promise<BatchRow | undefined>;
  /** The signing key's name and algorithm, or undefined when the key is gone. */
  signingKey(
    instanceId: string,
    id: string,
  ): Promise<{ id: string; name: string; algorithm: string } | undefined>;
}

export interface ProvisioningServiceDeps {
  db: Db;
  repo: ProvisioningRepo;
  audit: AuditService;
  refs: ProvisioningRefs;
  now: () => Date;
}

const invalid = (field: string, message: string) =>
  new BadRequestError(message, { errors: [{ path: field, message }] }, 'validation-failed');
const nameTaken = (name: string) =>
  new ConflictError(`a provisioning task named "${name}" already exists`, 'name-taken');

/** Provisioning tasks: what is flashed onto a device and which batch its ID joins. */
export function createProvisioningService(deps: ProvisioningServiceDeps) {
  const { db, repo, audit, refs, now } = deps;

  async function load(instanceId: string, id: string): Promise<TaskRow> {
    const t = await repo.find(instanceId, id);
    if (!t) throw new NotFoundError(`provisioning task ${id} not found`);
    return t;
  }

  /** The task's firmware, batch and key, each checked to exist; throws 400 naming the field. */
  async function resolve(instanceId: string, input: TaskInput) {
    const fw = async (field: string, id: string, what: string) => {
      const f = await refs.firmware(instanceId, id);
      if (!f) throw invalid(field, `${what}: firmware ${id} does not exist`);
      return f;
    };
    const bootloader = await fw('bootloaderFirmwareId', input.bootloaderFirmwareId, 'bootloader');
    const partitionTable = await fw(
      'partitionTableFirmwareId',
      input.partitionTableFirmwareId,
      'partition table',
    );
    const ief = await fw('iefFirmwareId', input.iefFirmwareId, 'initial enrolment firmware');
    const batch = await refs.batch(instanceId, input.batchId);
    if (!batch) throw invalid('batchId', `batch ${input.batchId} does not exist`);
    const key = batch.signingKeyId
      ? await refs.signingKey(instanceId, batch.signingKeyId)
      : undefined;
    return { bootloader, partitionTable, ief, batch, key };
  }

  const throwIf = (c: Check) => {
    if (!c.ok) throw invalid(c.field, c.reason);
  };

  /** Checks an input fully: references, image kinds and sizes, the signing key. */
  async function check(instanceId: string, input: TaskInput, selfId?: string) {
    const r = await resolve(instanceId, input);
    throwIf(checkImages(input.deviceType, r));
    throwIf(checkSigningKey(input.deviceType, input.bootloaderKind, r.batch.name, r.key));
    const same = await repo.findByName(instanceId, input.name);
    if (same && same.id !== selfId) throw nameTaken(input.name);
    return r;
  }

  async function view(instanceId: string, t: TaskRow): Promise<Task> {
    const name = async (id: string) => (await refs.firmware(instanceId, id))?.name ?? id;
    return {
      id: t.id,
      name: t.name,
      deviceType: t.deviceType,
      bootloaderKind: t.bootloaderKind,
      bootloader: { id: t.bootloaderFirmwareId, name: await name(t.bootloaderFirmwareId) },
      partitionTable: {
        id: t.partitionTableFirmwareId,
        name: await name(t.partitionTableFirmwareId),
      },
      ief: { id: t.iefFirmwareId, name: await name(t.iefFirmwareId) },
      batch: { id: t.batchId, name: (await refs.batch(instanceId, t.batchId))?.name ?? t.batchId },
      createdAt: t.createdAt,
      updatedAt: t.updatedAt,
    };
  }

  /** A write that lost a race with a delete of its firmware or batch, or with the same name. */
  function mapWriteError(err: unknown, name: string): unknown {
    if (isUniqueViolation(err)) return nameTaken(name);
    if (isForeignKeyViolation(err))
      return new ConflictError(
        'a firmware or batch of this task was deleted meanwhile; choose again',
        'reference-gone',
      );
    return err;
  }

  return {
    async list(instanceId: string): Promise<Task[]> {
      return Promise.all((await repo.list(instanceId)).map((t) => view(instanceId, t)));
    },
    async get(instanceId: string, id: string): Promise<Task> {
      return view(instanceId, await load(instanceId, id));
    },
    async create(instanceId: string, input: TaskInput, ctx: AuditContext): Promise<Task> {
      await check(instanceId, input);
      const id = randomUUID();
      try {
        await db.kysely.transaction().execute(async (tx) => {
          await repo.insert(instanceId, id, input, now().toISOString(), tx);
          await recordChange(audit, tx, {
            instanceId,
            ctx,
            action: 'provisioning.task.create',
            target: { type: 'provisioning-task', id, name: input.name },
            details: { input },
          });
        });
      } catch (err) {
        throw mapWriteError(err, input.name);
      }
      return this.get(instanceId, id);
    },
    async update(instanceId: string, id: string, input: TaskInput, ctx: AuditContext) {
      await load(instanceId, id);
      await check(instanceId, input, id);
      try {
        await db.kysely.transaction().execute(async (tx) => {
          await repo.update(instanceId, id, input, now().toISOString(), tx);
          await recordChange(audit, tx, {
            instanceId,
            ctx,
            action: 'provisioning.task.update',
            target: { type: 'provisioning-task', id, name: input.name },
            details: { input },
          });
        });
      } catch (err) {
        throw mapWriteError(err, input.name);
      }
      return this.get(instanceId, id);
    },
    /** Deletes a task and its run history; devices it provisioned stay in their batch. */
    async remove(instanceId: string, id: string, ctx: AuditContext): Promise<void> {
      const t = await load(instanceId, id);
      await db.kysely.transaction().execute(async (tx) => {
        await repo.delete(instanceId, id, tx);
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'provisioning.task.delete',
          target: { type: 'provisioning-task', id, name: t.name },
        });
      });
    },
    /** For the runs: the task with its references resolved and checked again (they may change). */
    async prepared(instanceId: string, id: string) {
      const t = await load(instanceId, id);
      try {
        return { task: t, ...(await check(instanceId, t, t.id)) };
      } catch (err) {
        // The task was valid when saved; something it uses changed since.
        if (err instanceof BadRequestError)
          throw new ConflictError(
            `task "${t.name}" cannot run as it stands: ${err.message}; edit the task or its batch`,
            'task-not-runnable',
          );
        throw err;
      }
    },
    /** For firmware and batch deletes: the tasks that use one, as descriptions. */
    usersOfFirmware: async (instanceId: string, firmwareId: string) =>
      (await repo.namesUsing(instanceId, { firmwareId })).map((n) => `provisioning task "${n}"`),
    usersOfBatch: async (instanceId: string, batchId: string) =>
      (await repo.namesUsing(instanceId, { batchId })).map((n) => `provisioning task "${n}"`),
  };
}
export type ProvisioningService = ReturnType<typeof createProvisioningService>;
