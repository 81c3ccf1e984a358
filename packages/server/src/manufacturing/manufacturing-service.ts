import { randomUUID } from 'node:crypto';
import { formatProofHeader, type KeyType, type ProofRequest } from '@trustlink/protocol';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditActor, AuditContext } from '../audit/audit-types.js';
import { recordChange } from '../audit/record-change.js';
import type { BatchService } from '../batches/batch-service.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/db-errors.js';
import type { ChallengeService } from '../enrolment/challenge-service.js';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
} from '../lib/errors.js';
import {
  credentialStatus,
  hashCredential,
  looksLikeCredential,
  newCredential,
} from './manufacturing-fns.js';
import type { ManufacturingCredential, ManufacturingRepo } from './manufacturing-repo.js';
import type { CreateCredentialInput, RegistrationResult } from './manufacturing-types.js';

/** last_used_at is written at most this often by mere authentication. */
const TOUCH_EVERY_SECONDS = 60;

export interface ManufacturingServiceDeps {
  db: Db;
  repo: ManufacturingRepo;
  batches: Pick<BatchService, 'find' | 'batchOfDevice' | 'insertDevice'>;
  challenges: Pick<ChallengeService, 'issue' | 'check'>;
  /** Key types the batch's policy accepts: a device it could never enrol is refused now. */
  keyTypesOf(instanceId: string, batchId: string): Promise<readonly KeyType[] | undefined>;
  audit: AuditService;
  now?: () => Date;
}

/** How a station appears in the audit log: the credential, by name. */
export const stationActor = (c: ManufacturingCredential): AuditActor => ({
  type: 'token',
  id: c.id,
  name: `manufacturing:${c.name}`,
});

/**
 * Manufacturing credentials: what a production-line station holds so it can add device IDs to
 * one batch, and nothing else, without an administrator. Each is limited in time and in count,
 * can be deleted at any moment, is shown once at creation and stored as SHA-256 only. A station
 * never names the device ID: it proves the device's key with a signed challenge and the ID is
 * derived from that key here.
 */
export function createManufacturingService(deps: ManufacturingServiceDeps) {
  const { db, repo, audit } = deps;
  const now = deps.now ?? (() => new Date());

  /** Refusals of a presented credential are audited; the station is told what to fix. */
  async function refuse(
    instanceId: string,
    actor: AuditActor,
    sourceAddress: string | null,
    reason: string,
  ) {
    await audit.record({
      instanceId,
      actor,
      action: 'manufacturing.credential.rejected',
      target: actor.id ? { type: 'manufacturing-credential', id: actor.id } : null,
      result: 'denied',
      sourceAddress,
      details: { reason },
    });
  }

  return {
    async list(instanceId: string): Promise<ManufacturingCredential[]> {
      return repo.list(instanceId);
    },

    async create(
      instanceId: string,
      input: CreateCredentialInput,
      ctx: AuditContext,
    ): Promise<{ credential: ManufacturingCredential; value: string }> {
      const notAfter = Date.parse(input.notAfter);
      if (notAfter <= now().getTime())
        throw new BadRequestError(
          'notAfter is in the past: the credential could never be used',
          { errors: [{ path: 'notAfter', message: 'in the past' }] },
          'validation-failed',
        );
      if (!(await deps.batches.find(instanceId, input.batchId)))
        throw new BadRequestError(
          `batch ${input.batchId} does not exist`,
          { errors: [{ path: 'batchId', message: 'unknown batch' }] },
          'validation-failed',
        );
      const value = newCredential();
      const credential: ManufacturingCredential = {
        id: randomUUID(),
        name: input.name,
        batchId: input.batchId,
        hint: value.slice(-4),
        notAfter: new Date(notAfter).toISOString(),
        maxDevices: input.maxDevices,
        usedDevices: 0,
        createdAt: now().toISOString(),
        createdBy: ctx.actor.name,
        lastUsedAt: null,
      };
      await db.kysely.transaction().execute(async (tx) => {
        await repo.insert(instanceId, credential, hashCredential(value), tx);
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'manufacturing.credential.create',
          target: { type: 'manufacturing-credential', id: credential.id, name: credential.name },
          details: {
            batchId: credential.batchId,
            notAfter: credential.notAfter,
            maxDevices: credential.maxDevices,
          },
        });
      });
      return { credential, value };
    },

    async remove(
      instanceId: string,
      id: string,
      ctx: AuditContext,
    ): Promise<ManufacturingCredential> {
      const c = await repo.find(instanceId, id);
      if (!c) throw new NotFoundError(`manufacturing credential ${id} not found`);
      await db.kysely.transaction().execute(async (tx) => {
        await repo.delete(instanceId, id, tx);
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'manufacturing.credential.delete',
          target: { type: 'manufacturing-credential', id, name: c.name },
          details: { usedDevices: c.usedDevices, maxDevices: c.maxDevices },
        });
      });
      return c;
    },

    /**
     * The credential behind a station's bearer value, valid now, or a 401/403 that says which
     * of unknown-or-deleted, expired or used up it is. A used-up credential still authenticates
     * (re-registering a device it already added is fine); `register` refuses new devices.
     */
    async authenticate(
      instanceId: string,
      value: string | undefined,
      sourceAddress: string | null,
    ): Promise<ManufacturingCredential> {
      const unknown: AuditActor = { type: 'token', id: null, name: '(unknown credential)' };
      const c =
        value && looksLikeCredential(value)
          ? await repo.findByHash(instanceId, hashCredential(value))
          : undefined;
      if (!c) {
        await refuse(instanceId, unknown, sourceAddress, value ? 'unknown' : 'missing');
        throw new UnauthorizedError(
          'the manufacturing credential is missing, unknown or was deleted: send "Authorization: Bearer tlm_..."',
          undefined,
          'credential-invalid',
        );
      }
      const t = now();
      if (credentialStatus(c, t) === 'expired') {
        await refuse(instanceId, stationActor(c), sourceAddress, 'expired');
        throw new UnauthorizedError(
          `manufacturing credential "${c.name}" expired at ${c.notAfter}`,
          undefined,
          'credential-expired',
        );
      }
      if (!c.lastUsedAt || t.getTime() - Date.parse(c.lastUsedAt) > TOUCH_EVERY_SECONDS * 1000)
        await repo.touch(instanceId, c.id, t.toISOString());
      return c;
    },

    /** A fresh challenge for the station's proof of the device key. */
    challenge: (instanceId: string) => deps.challenges.issue(instanceId),

    /**
     * Registers the device whose key the proof shows into the credential's batch. The ID comes
     * from the proven key, never from the caller. Registering an ID that is already in this
     * batch succeeds and costs nothing; a new ID costs one from the count.
     */
    async register(
      instanceId: string,
      c: ManufacturingCredential,
      proof: { spki: Buffer; nonce: string; signature: Buffer },
      request: Omit<ProofRequest, 'body'>,
      sourceAddress: string | null,
    ): Promise<RegistrationResult> {
      const ctx: AuditContext = { actor: stationActor(c), sourceAddress };
      let header: string;
      try {
        header = formatProofHeader({
          credential: { type: 'spki', der: proof.spki },
          nonce: proof.nonce,
          signature: proof.signature,
        });
      } catch (err) {
        throw new BadRequestError(`proof: ${(err as Error).message}`, undefined, 'proof-rejected');
      }
      // The SPKI's DER is the "body" of this proof: the JSON around it carries the proof itself.
      const check = await deps.challenges.check(
        instanceId,
        header,
        { ...request, body: proof.spki },
        'register',
        await deps.keyTypesOf(instanceId, c.batchId),
      );
      if (!check.ok) {
        await refuse(instanceId, ctx.actor, sourceAddress, `${check.reason}: ${check.detail}`);
        if (check.reason === 'proof key-type-not-allowed')
          throw new BadRequestError(
            `the batch's policy does not accept this device's key: ${check.detail}`,
            undefined,
            'key-type-not-allowed',
          );
        if (check.replay)
          throw new ConflictError(
            'the challenge was already used or has expired: fetch a new one',
            'challenge-replayed',
          );
        throw new BadRequestError(
          `the proof of the device key was refused (${check.reason.replace(/^proof /, '')}: ${check.detail})`,
          undefined,
          'proof-rejected',
        );
      }
      const deviceId = check.proof.deviceId;
      const batch = await deps.batches.find(instanceId, c.batchId);
      const result = (added: boolean): RegistrationResult => ({
        deviceId,
        batchId: c.batchId,
        batchName: batch?.name ?? c.batchId,
        added,
      });
      const owner = await deps.batches.batchOfDevice(instanceId, deviceId);
      if (owner === c.batchId) return result(false);
      if (owner !== undefined) {
        await refuse(instanceId, ctx.actor, sourceAddress, `device ${deviceId} in batch ${owner}`);
        throw new ConflictError(
          `device ${deviceId} is already registered in another batch`,
          'device-in-other-batch',
        );
      }
      try {
        const consumed = await db.kysely.transaction().execute(async (tx) => {
          if (!(await repo.consumeOne(instanceId, c.id, now().toISOString(), tx))) return false;
          await deps.batches.insertDevice(instanceId, c.batchId, deviceId, tx);
          await recordChange(audit, tx, {
            instanceId,
            ctx,
            action: 'batch.devices.register',
            target: { type: 'batch', id: c.batchId, name: batch?.name ?? null },
            details: { added: 1, deviceIds: [deviceId], credentialId: c.id },
          });
          return true;
        });
        if (!consumed) {
          await refuse(instanceId, ctx.actor, sourceAddress, 'used up');
          throw new ForbiddenError(
            `manufacturing credential "${c.name}" has registered its ${c.maxDevices} devices: create another`,
            'credential-used-up',
          );
        }
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // Another station registered the same ID at the same moment: judge it as it now stands.
        const now2 = await deps.batches.batchOfDevice(instanceId, deviceId);
        if (now2 === c.batchId) return result(false);
        throw new ConflictError(
          `device ${deviceId} is already registered in another batch`,
          'device-in-other-batch',
        );
      }
      return result(true);
    },
  };
}
export type ManufacturingService = ReturnType<typeof createManufacturingService>;
