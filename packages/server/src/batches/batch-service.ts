import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import { recordChange } from '../audit/record-change.js';
import type { Db, Executor } from '../db/database.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/db-errors.js';
import { checkDeviceList, type DeviceListProblem } from '../devices/device-list-fns.js';
import type { DeviceRepo, DeviceState } from '../devices/device-repo.js';
import { BadRequestError, ConflictError, NotFoundError } from '../lib/errors.js';
import { createUsageRegistry } from '../lib/usage-registry.js';
import type { PolicyRepo } from '../policies/policy-repo.js';
import type { BatchRepo, BatchRow } from './batch-repo.js';
import type { Batch, BatchInput } from './batch-types.js';

/** At most this many problems are listed in one answer; the count covers all of them. */
const MAX_LISTED_PROBLEMS = 1000;

export interface BatchServiceDeps {
  db: Db;
  batches: BatchRepo;
  devices: DeviceRepo;
  policies: PolicyRepo;
  audit: AuditService;
  now?: () => Date;
}

export interface UploadResult {
  added: number;
  alreadyInBatch: number;
}

const ZERO = { devices: 0, enrolled: 0, renewed: 0, expired: 0, revoked: 0 };

/** Batches and the device IDs registered into them. */
export function createBatchService(deps: BatchServiceDeps) {
  const { db, batches, devices, policies, audit } = deps;
  const now = deps.now ?? (() => new Date());
  // Domains created later (provisioning tasks) register what of theirs uses a batch.
  const usage = createUsageRegistry();

  async function load(instanceId: string, id: string): Promise<BatchRow> {
    const b = await batches.find(instanceId, id);
    if (!b) throw new NotFoundError(`batch ${id} not found`);
    return b;
  }

  async function withCounts(instanceId: string, rows: BatchRow[]): Promise<Batch[]> {
    const counts = await devices.countsByBatch(instanceId);
    return rows.map((r) => ({ ...r, counts: counts.get(r.id) ?? { ...ZERO } }));
  }

  async function checkInput(instanceId: string, input: BatchInput, selfId?: string): Promise<void> {
    if (!(await policies.find(instanceId, input.policyId))) {
      throw new BadRequestError(
        `policy ${input.policyId} does not exist`,
        { errors: [{ path: 'policyId', message: 'unknown policy' }] },
        'validation-failed',
      );
    }
    const same = await batches.findByName(instanceId, input.name);
    if (same && same.id !== selfId)
      throw new ConflictError(`a batch named "${input.name}" already exists`, 'name-taken');
  }

  /**
   * Registers device IDs into a batch, all or nothing. Every bad entry is reported (shape,
   * duplicates in the list, IDs registered in another batch); IDs already in this batch are
   * counted and left as they are, so a repeated upload is harmless.
   */
  async function register(
    instanceId: string,
    batchId: string,
    entries: unknown[],
    ctx: AuditContext,
  ): Promise<UploadResult> {
    const batch = await load(instanceId, batchId);
    const { ids, problems } = checkDeviceList(entries);
    const existing = await devices.existing(instanceId, ids);
    const others = [...new Set([...existing.values()].filter((b) => b !== batch.id))];
    const otherNames = await batches.namesByIds(instanceId, others);
    const fresh: string[] = [];
    let alreadyInBatch = 0;
    const position = new Map(
      entries.map((e, i) => [typeof e === 'string' ? e.trim().toLowerCase() : '', i + 1]),
    );
    for (const id of ids) {
      const owner = existing.get(id);
      if (owner === undefined) fresh.push(id);
      else if (owner === batch.id) alreadyInBatch++;
      else
        problems.push({
          entry: position.get(id) ?? 0,
          value: id,
          reason: `already in batch "${otherNames.get(owner) ?? owner}"`,
        });
    }
    if (problems.length) {
      problems.sort((a, b) => a.entry - b.entry);
      throw new BadRequestError(
        `${problems.length} of ${entries.length} entries cannot be added; nothing was added`,
        { problems: problems.slice(0, MAX_LISTED_PROBLEMS), problemCount: problems.length },
        'device-list-rejected',
      );
    }
    try {
      await db.kysely.transaction().execute(async (tx) => {
        await devices.insertRegistered(instanceId, batch.id, fresh, now().toISOString(), tx);
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'batch.devices.register',
          target: { type: 'batch', id: batch.id, name: batch.name },
          // The IDs themselves are in the devices table; a list of 100,000 has no place here.
          details: {
            added: fresh.length,
            alreadyInBatch,
            ...(fresh.length <= 10 ? { deviceIds: fresh } : {}),
          },
        });
      });
    } catch (err) {
      // Another upload registered one of these IDs between our check and our insert.
      if (isUniqueViolation(err))
        throw new ConflictError(
          'some of these devices were registered at the same time by another request; nothing was added, try again',
          'concurrent-registration',
        );
      throw err;
    }
    return { added: fresh.length, alreadyInBatch };
  }

  return {
    async list(instanceId: string): Promise<Batch[]> {
      return withCounts(instanceId, await batches.list(instanceId));
    },
    async get(instanceId: string, id: string): Promise<Batch> {
      const [b] = await withCounts(instanceId, [await load(instanceId, id)]);
      return b!;
    },
    async create(instanceId: string, input: BatchInput, ctx: AuditContext): Promise<Batch> {
      await checkInput(instanceId, input);
      const id = randomUUID();
      try {
        await db.kysely.transaction().execute(async (tx) => {
          await batches.insert(instanceId, id, input, now().toISOString(), tx);
          await recordChange(audit, tx, {
            instanceId,
            ctx,
            action: 'batch.create',
            target: { type: 'batch', id, name: input.name },
            details: { input },
          });
        });
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ConflictError(`a batch named "${input.name}" already exists`, 'name-taken');
        throw err;
      }
      return this.get(instanceId, id);
    },
    async update(
      instanceId: string,
      id: string,
      input: BatchInput,
      ctx: AuditContext,
    ): Promise<Batch> {
      await load(instanceId, id);
      await checkInput(instanceId, input, id);
      try {
        await db.kysely.transaction().execute(async (tx) => {
          await batches.update(instanceId, id, input, now().toISOString(), tx);
          await recordChange(audit, tx, {
            instanceId,
            ctx,
            action: 'batch.update',
            target: { type: 'batch', id, name: input.name },
            details: { input },
          });
        });
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ConflictError(`a batch named "${input.name}" already exists`, 'name-taken');
        throw err;
      }
      return this.get(instanceId, id);
    },
    /** Removes a batch and its never-enrolled devices; refused while any device is enrolled. */
    async remove(instanceId: string, id: string, ctx: AuditContext): Promise<Batch> {
      const batch = await this.get(instanceId, id);
      if (batch.counts.enrolled > 0) {
        throw new ConflictError(
          `batch "${batch.name}" has ${batch.counts.enrolled} enrolled devices; revoke them first`,
          'in-use',
        );
      }
      const users = await usage.usesOf(instanceId, id);
      if (users.length)
        throw new ConflictError(
          `batch "${batch.name}" is used by ${users.join(', ')}; change or delete that first`,
          'in-use',
        );
      try {
        await db.kysely.transaction().execute(async (tx) => {
          await devices.deleteByBatch(instanceId, id, tx);
          await batches.delete(instanceId, id, tx);
          await recordChange(audit, tx, {
            instanceId,
            ctx,
            action: 'batch.delete',
            target: { type: 'batch', id, name: batch.name },
            details: { devicesRemoved: batch.counts.devices },
          });
        });
      } catch (err) {
        if (isForeignKeyViolation(err)) {
          throw new ConflictError(
            `batch "${batch.name}" is still used (auth certs, tokens or manufacturing credentials); remove those first`,
            'in-use',
          );
        }
        throw err;
      }
      return batch;
    },
    register,
    /** Where other domains register their uses of a batch (a delete is refused while any). */
    usage,
    /** The batch, or undefined (for other domains checking a reference). */
    find: (instanceId: string, id: string) => batches.find(instanceId, id),
    async listDevices(
      instanceId: string,
      batchId: string,
      opts: { offset: number; limit: number; state?: DeviceState },
    ) {
      await load(instanceId, batchId);
      return devices.listByBatch(instanceId, batchId, opts);
    },
    /** Takes a device ID out of its batch; only while it has never enrolled. */
    async unregister(
      instanceId: string,
      batchId: string,
      deviceId: string,
      ctx: AuditContext,
    ): Promise<void> {
      const d = await devices.find(instanceId, deviceId.toLowerCase());
      if (!d || d.batchId !== batchId)
        throw new NotFoundError(`device ${deviceId} is not in this batch`);
      if (d.state !== 'registered')
        throw new ConflictError(
          `device ${deviceId} is ${d.state}; revoke it instead of removing it`,
          'device-enrolled',
        );
      await db.kysely.transaction().execute(async (tx) => {
        await devices.delete(instanceId, d.id, tx);
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'batch.devices.unregister',
          target: { type: 'device', id: d.id },
          details: { batchId },
        });
      });
    },
    /**
     * For the firmware domain: records the firmware and signing key assigned to a batch (null
     * clears them), in the caller's transaction, which also writes the rollout and its audit entry.
     */
    async setFirmware(
      instanceId: string,
      batchId: string,
      assignment: { firmwareId: string; signingKeyId: string } | null,
      tx: Executor,
    ): Promise<void> {
      await batches.setFirmware(instanceId, batchId, assignment, now().toISOString(), tx);
    },
    /** For manufacturing credentials: the batch a device ID is registered in, if any. */
    batchOfDevice: async (instanceId: string, deviceId: string, tx?: Executor) =>
      (await devices.existing(instanceId, [deviceId], tx)).get(deviceId),
    /**
     * For manufacturing credentials: registers one new device ID in the caller's transaction,
     * which also consumes the credential's count and writes the audit entry.
     */
    async insertDevice(
      instanceId: string,
      batchId: string,
      deviceId: string,
      tx: Executor,
    ): Promise<void> {
      await devices.insertRegistered(instanceId, batchId, [deviceId], now().toISOString(), tx);
    },
    /** For the firmware domain: every device ID of a batch, in the caller's transaction. */
    deviceIds: (instanceId: string, batchId: string, tx?: Executor) =>
      devices.idsByBatch(instanceId, batchId, tx),
    /** For the firmware domain: which firmware and signing key each batch has assigned. */
    assignments: async (instanceId: string) =>
      (await batches.list(instanceId))
        .filter((b) => b.firmwareId !== null)
        .map((b) => ({
          id: b.id,
          name: b.name,
          firmwareId: b.firmwareId!,
          signingKeyId: b.signingKeyId,
        })),
    /** For the firmware domain: the batches a firmware is assigned to, as descriptions. */
    firmwareUsers: async (instanceId: string, firmwareId: string) =>
      (await batches.namesUsing(instanceId, 'firmware_id', firmwareId)).map((n) => `batch "${n}"`),
    /** For the PKI: the batches whose firmware is signed with a key, as descriptions. */
    signingKeyUsers: async (instanceId: string, keyId: string) =>
      (await batches.namesUsing(instanceId, 'signing_key_id', keyId)).map((n) => `batch "${n}"`),
    /** For the policy domain: the first batch using a policy. */
    policyUser: async (instanceId: string, policyId: string) => {
      const name = await batches.firstUsingPolicy(instanceId, policyId);
      return name ? `batch "${name}"` : undefined;
    },
  };
}
export type BatchService = ReturnType<typeof createBatchService>;
export type { DeviceListProblem };
