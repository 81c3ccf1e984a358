import { createHash, randomUUID } from 'node:crypto';
import {
  PROVISIONING_CONFIG_OFFSET,
  deviceIdFromSpki,
  encodeProvisioningConfig,
  parseIdentityLine,
} from '@trustlink/protocol';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import { recordChange } from '../audit/record-change.js';
import type { BatchService } from '../batches/batch-service.js';
import type { Db, Executor } from '../db/database.js';
import { isUniqueViolation } from '../db/db-errors.js';
import type { Esp32KeyType } from '../firmware/esp32-sbv2-layout.js';
import { signEsp32SecureBootV2 } from '../firmware/esp32-sbv2-fns.js';
import { keyStoreSigner } from '../firmware/firmware-signer.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import { BadRequestError, ConflictError, NotFoundError } from '../lib/errors.js';
import { CHIPS, flashLayout } from './provisioning-fns.js';
import type { ProvisioningRepo } from './provisioning-repo.js';
import type { ProvisioningService } from './provisioning-service.js';
import type { FlashPlan, Run } from './provisioning-types.js';

export interface ProvisioningRunDeps {
  db: Db;
  repo: ProvisioningRepo;
  tasks: ProvisioningService;
  audit: AuditService;
  keystore: Pick<KeyStore, 'sign' | 'publicKey'>;
  batches: Pick<BatchService, 'batchOfDevice' | 'insertDevice' | 'find'>;
  /** The bytes of a firmware image as stored. */
  imageOf(instanceId: string, firmwareId: string): Promise<Buffer>;
  /** The instance root certificate (DER) devices pin. */
  rootDer(instanceId: string): Promise<Buffer>;
  /** Base URL of the device API as devices reach it. */
  deviceUrl: () => string;
  /** How long a run may stay started before the sweep calls it abandoned. */
  runExpiryMs: number;
  now: () => Date;
}

/** How many abandoned runs one sweep ends; the next sweep takes the rest. */
const SWEEP_BATCH = 200;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Runs of a provisioning task: the console starts one and gets the flash plan (images signed
 * for the batch, and the provisioning config with the Wi-Fi it was given), flashes the device,
 * and finishes the run with the identity line the device printed. The platform derives the
 * device ID from that key itself and registers it in the task's batch. Every run is audited.
 */
export function createProvisioningRuns(deps: ProvisioningRunDeps) {
  const { db, repo, tasks, audit, keystore, batches, now } = deps;

  async function loadRun(instanceId: string, taskId: string, runId: string): Promise<Run> {
    const run = await repo.findRun(instanceId, taskId, runId);
    if (!run) throw new NotFoundError(`run ${runId} of provisioning task ${taskId} not found`);
    if (run.status === 'abandoned')
      throw new ConflictError(
        `this run was abandoned: ${run.reason ?? 'no result came in time'}; flash the device again in a new run`,
        'run-abandoned',
      );
    if (run.status !== 'started')
      throw new ConflictError(`this run has already ${run.status}; start a new run`, 'run-ended');
    return run;
  }

  /** Ends a run as failed and audits it (result failed), in its own transaction. */
  async function failRun(
    instanceId: string,
    run: Run,
    taskName: string,
    reason: string,
    ctx: AuditContext,
  ): Promise<void> {
    await db.kysely.transaction().execute(async (tx) => {
      const ended = await repo.endRun(
        instanceId,
        run.id,
        { status: 'failed', deviceId: null, reason, at: now().toISOString() },
        tx,
      );
      if (!ended) throw new ConflictError('this run has already ended', 'run-ended');
      await audit.record(
        {
          instanceId,
          actor: ctx.actor,
          sourceAddress: ctx.sourceAddress ?? null,
          action: 'provisioning.run.fail',
          target: { type: 'provisioning-task', id: run.taskId, name: taskName },
          result: 'failed',
          details: { runId: run.id, reason },
        },
        tx,
      );
    });
  }

  return {
    /**
     * Starts a run: checks the task can run as it stands, signs the bootloader and IEF with the
     * batch's key (when it has one), makes the config blob and records the run. The Wi-Fi
     * password goes into the blob in this answer only; nothing keeps it.
     */
    async start(
      instanceId: string,
      taskId: string,
      wifi: { ssid: string; password: string },
      ctx: AuditContext,
    ): Promise<FlashPlan> {
      const p = await tasks.prepared(instanceId, taskId);
      const { task, key } = p;
      const keyRecord = key ? await keystore.publicKey(instanceId, key.id) : undefined;
      const sign = async (image: Buffer) =>
        keyRecord
          ? signEsp32SecureBootV2(
              image,
              keyStoreSigner(keystore, instanceId, keyRecord.id),
              keyRecord.publicKeyDer,
              keyRecord.algorithm as Esp32KeyType,
            )
          : image;
      const config = encodeProvisioningConfig({
        v: 1,
        deviceUrl: deps.deviceUrl(),
        rootCa: (await deps.rootDer(instanceId)).toString('base64'),
        instanceId,
        batchId: p.batch.id,
        bootloader: task.bootloaderKind,
        wifi,
      });
      const bytes = {
        bootloader: await sign(await deps.imageOf(instanceId, p.bootloader.id)),
        'partition-table': await deps.imageOf(instanceId, p.partitionTable.id),
        config,
        ief: await sign(await deps.imageOf(instanceId, p.ief.id)),
      };
      const names = {
        bootloader: p.bootloader.name,
        'partition-table': p.partitionTable.name,
        config: 'Provisioning config',
        ief: p.ief.name,
      };
      const images = flashLayout(task.deviceType, PROVISIONING_CONFIG_OFFSET).map((l) => ({
        part: l.part,
        name: names[l.part],
        address: l.address,
        size: bytes[l.part].length,
        sha256: sha256(bytes[l.part]),
        signed: Boolean(keyRecord) && (l.part === 'bootloader' || l.part === 'ief'),
        data: bytes[l.part].toString('base64'),
      }));
      const run: Run = {
        id: randomUUID(),
        taskId: task.id,
        status: 'started',
        deviceId: null,
        reason: null,
        startedBy: ctx.actor.name ?? 'unknown',
        startedAt: now().toISOString(),
        endedAt: null,
      };
      await db.kysely.transaction().execute(async (tx) => {
        await repo.insertRun(instanceId, run, tx);
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'provisioning.run.start',
          target: { type: 'provisioning-task', id: task.id, name: task.name },
          // What is flashed, by digest; the config's digest stands for it (it holds the password).
          details: {
            runId: run.id,
            batchId: p.batch.id,
            deviceType: task.deviceType,
            bootloaderKind: task.bootloaderKind,
            signingKeyId: keyRecord?.id ?? null,
            images: images.map((i) => ({ part: i.part, address: i.address, sha256: i.sha256 })),
          },
        });
      });
      return {
        run,
        deviceType: task.deviceType,
        chip: CHIPS[task.deviceType].label,
        bootloaderKind: task.bootloaderKind,
        signingKey: key ? { id: key.id, name: key.name, algorithm: key.algorithm } : null,
        images,
      };
    },

    /**
     * Finishes a run with the line the device printed: derives the device ID from its key
     * (canonical encodings only, as enrolment) and registers it in the task's batch. A refusal
     * ends the run as failed (audited) and adds nothing.
     */
    async identity(
      instanceId: string,
      taskId: string,
      runId: string,
      line: string,
      ctx: AuditContext,
    ) {
      const run = await loadRun(instanceId, taskId, runId);
      const task = await repo.find(instanceId, taskId);
      const batch = task ? await batches.find(instanceId, task.batchId) : undefined;
      // The foreign keys keep both while a run exists; this is for the type checker.
      if (!task || !batch) throw new NotFoundError(`provisioning task ${taskId} not found`);
      const refuse = async (err: BadRequestError | ConflictError) => {
        await failRun(instanceId, run, task.name, err.message, ctx);
        return err;
      };
      const parsed = parseIdentityLine(line);
      if (!parsed.ok)
        throw await refuse(
          new BadRequestError(
            `the device printed a bad identity line: ${parsed.detail}`,
            undefined,
            'identity-refused',
          ),
        );
      const derived = deviceIdFromSpki(parsed.spkiDer);
      if (!derived.ok)
        throw await refuse(
          new BadRequestError(
            `the device's public key is refused (${derived.reason}): ${derived.detail}`,
            undefined,
            'identity-refused',
          ),
        );
      const { deviceId } = derived;
      const owner = await batches.batchOfDevice(instanceId, deviceId);
      if (owner !== undefined && owner !== batch.id) {
        const other = await batches.find(instanceId, owner);
        throw await refuse(
          new ConflictError(
            `device ${deviceId} is already in batch "${other?.name ?? owner}"; take it out of that batch first`,
            'device-in-other-batch',
          ),
        );
      }
      const alreadyInBatch = owner === batch.id;
      const finish = async (tx: Executor) => {
        const ended = await repo.endRun(
          instanceId,
          run.id,
          { status: 'finished', deviceId, reason: null, at: now().toISOString() },
          tx,
        );
        if (!ended) throw new ConflictError('this run has already ended', 'run-ended');
        if (!alreadyInBatch) await batches.insertDevice(instanceId, batch.id, deviceId, tx);
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'provisioning.run.finish',
          target: { type: 'provisioning-task', id: task.id, name: task.name },
          details: { runId: run.id, deviceId, batchId: batch.id, alreadyInBatch },
        });
      };
      try {
        await db.kysely.transaction().execute(finish);
      } catch (err) {
        // The same ID was registered by another request between the check and the insert.
        if (isUniqueViolation(err))
          throw await refuse(
            new ConflictError(
              `device ${deviceId} was registered at the same time by another request`,
              'concurrent-registration',
            ),
          );
        throw err;
      }
      const ended = (await repo.findRun(instanceId, taskId, runId))!;
      return { run: ended, deviceId, batch: { id: batch.id, name: batch.name }, alreadyInBatch };
    },

    /** Ends a run the console could not complete (port closed, flash error), with its reason. */
    async fail(
      instanceId: string,
      taskId: string,
      runId: string,
      reason: string,
      ctx: AuditContext,
    ): Promise<Run> {
      const run = await loadRun(instanceId, taskId, runId);
      const task = await repo.find(instanceId, taskId);
      await failRun(instanceId, run, task?.name ?? taskId, reason, ctx);
      return (await repo.findRun(instanceId, taskId, runId))!;
    },

    list: (instanceId: string, taskId: string, page: { offset: number; limit: number }) =>
      repo.listRuns(instanceId, taskId, page),

    /**
     * Ends as abandoned the runs of every instance still started after the expiry (the browser
     * was closed or lost its connection mid-run), each with an audit entry; returns how many.
     * A run the console ends at the same moment keeps the console's result: endRun ends a
     * run once. Idempotent, so two replicas overlapping around a lease handover do no harm.
     */
    async abandonStale(at: Date = now()): Promise<number> {
      const minutes = Math.round(deps.runExpiryMs / 60_000);
      const reason = `abandoned: no result within ${minutes} minute${minutes === 1 ? '' : 's'} of the start (the console was closed or lost its connection)`;
      const before = new Date(at.getTime() - deps.runExpiryMs).toISOString();
      let ended = 0;
      for (const r of await repo.staleRuns(before, SWEEP_BATCH)) {
        const done = await db.kysely.transaction().execute(async (tx) => {
          const end = {
            status: 'abandoned',
            deviceId: null,
            reason,
            at: at.toISOString(),
          } as const;
          if (!(await repo.endRun(r.instanceId, r.id, end, tx))) return false;
          await audit.record(
            {
              instanceId: r.instanceId,
              actor: { type: 'system', name: 'provisioning' },
              action: 'provisioning.run.abandon',
              target: { type: 'provisioning-task', id: r.taskId, name: r.taskName },
              result: 'failed',
              details: { runId: r.id, startedBy: r.startedBy, startedAt: r.startedAt, reason },
            },
            tx,
          );
          return true;
        });
        if (done) ended++;
      }
      return ended;
    },
  };
}
export type ProvisioningRuns = ReturnType<typeof createProvisioningRuns>;
