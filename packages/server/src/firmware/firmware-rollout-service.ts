import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import { recordChange } from '../audit/record-change.js';
import type { Db, Executor } from '../db/database.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/db-errors.js';
import type { KeyRecord, KeyStore } from '../keystore/keystore-types.js';
import { BadRequestError, ConflictError, NotFoundError } from '../lib/errors.js';
import type { FirmwareBlobStore, StoredBlob } from './blob-store.js';
import { matchesAttributeFilter, type AttributeFilter } from './firmware-fns.js';
import type { FirmwareRepo, FirmwareRow } from './firmware-repo.js';
import { nativeKindOf, type FirmwareSigning } from './firmware-signing.js';
import type { Assignment, Rollout, UpdateStatus, UpdateView } from './firmware-types.js';
import type { FirmwareUpdateRepo, UpdateRow } from './firmware-update-repo.js';

/** What rollouts need from the fleet domain (the batch service). */
export interface RolloutFleet {
  find(
    instanceId: string,
    batchId: string,
  ): Promise<{ id: string; name: string; attributeFilter: AttributeFilter } | undefined>;
  deviceIds(instanceId: string, batchId: string, tx?: Executor): Promise<string[]>;
  setFirmware(
    instanceId: string,
    batchId: string,
    assignment: { firmwareId: string; signingKeyId: string } | null,
    tx: Executor,
  ): Promise<void>;
}

export interface RolloutServiceDeps {
  db: Db;
  repo: FirmwareRepo;
  updates: FirmwareUpdateRepo;
  blobs: FirmwareBlobStore;
  keystore: KeyStore;
  signing: FirmwareSigning;
  fleet: RolloutFleet;
  audit: AuditService;
  /** Frees a blob nothing refers to (the catalogue's, serialised with uploads). */
  release(instanceId: string, sha256: string): Promise<void>;
  /**
   * Records, inside the assignment's transaction, that the batch's devices are to be told
   * (MQTT `devices/<id>/firmware` on embedded hubs): the message goes out exactly when the
   * update exists. Absent: devices learn of it at check-in only.
   */
  announce?: (
    tx: Executor,
    e: { instanceId: string; batchId: string; updateId: string },
    now: Date,
  ) => Promise<unknown>;
  now?: () => Date;
}

const invalid = (path: string, message: string) =>
  new BadRequestError(message, { errors: [{ path, message }] }, 'validation-failed');

/**
 * Assigning firmware to a batch (administrators: it signs), and the rollout that follows:
 * the manifest is signed for the batch, native signatures are made where the format needs
 * them, and every device of the batch starts at `pending`, in one transaction with the
 * batch's new assignment and its audit entry.
 */
export function createRolloutService(deps: RolloutServiceDeps) {
  const { db, repo, updates, blobs, keystore, signing, fleet, audit } = deps;
  const now = deps.now ?? (() => new Date());

  async function batchOf(instanceId: string, batchId: string) {
    const b = await fleet.find(instanceId, batchId);
    if (!b) throw new NotFoundError(`batch ${batchId} not found`);
    return b;
  }

  async function signingKey(instanceId: string, keyId: string): Promise<KeyRecord> {
    const key = await keystore.publicKey(instanceId, keyId).catch(() => undefined);
    if (!key || key.purpose !== 'signing') throw invalid('signingKeyId', 'unknown signing key');
    return key;
  }

  /** The native signature of the image by the key: the stored one, or a new one. */
  async function nativeSignature(
    instanceId: string,
    firmware: FirmwareRow,
    key: KeyRecord,
  ): Promise<{ blob: StoredBlob; fresh: boolean } | undefined> {
    const kind = nativeKindOf(firmware.format);
    if (!kind) return undefined;
    const have = await repo.findSignature(instanceId, firmware.id, key.id, kind);
    if (have?.blobSha256 && have.size !== null && (await blobs.stat(instanceId, have.blobSha256)))
      return { blob: { sha256: have.blobSha256, size: have.size }, fresh: false };
    return { blob: await signing.native(instanceId, firmware, key, kind), fresh: true };
  }

  async function view(instanceId: string, u: UpdateRow): Promise<UpdateView> {
    const f = await repo.find(instanceId, u.firmwareId);
    return {
      id: u.id,
      batchId: u.batchId,
      firmwareId: u.firmwareId,
      firmwareName: f?.name ?? '',
      version: f?.version ?? '',
      securityVersion: f?.securityVersion ?? 0,
      signingKeyId: u.signingKeyId,
      format: u.format,
      imageSha256: u.imageSha256,
      imageSize: u.imageSize,
      manifestExpiresAt: u.manifestExpiresAt,
      createdBy: u.createdBy,
      createdAt: u.createdAt,
      supersededAt: u.supersededAt,
    };
  }

  return {
    /**
     * Assigns firmware and a signing key to a batch and starts the update for its devices; a
     * previous update of the batch is superseded (its history stays).
     */
    async assign(
      instanceId: string,
      batchId: string,
      input: Assignment,
      ctx: AuditContext,
    ): Promise<UpdateView> {
      const batch = await batchOf(instanceId, batchId);
      const firmware = await repo.find(instanceId, input.firmwareId);
      if (!firmware) throw invalid('firmwareId', 'unknown firmware');
      const key = await signingKey(instanceId, input.signingKeyId);
      if (!matchesAttributeFilter(firmware.attributes, batch.attributeFilter)) {
        throw new ConflictError(
          `firmware "${firmware.name}" does not pass the attribute filter of batch "${batch.name}"`,
          'attribute-filter-mismatch',
        );
      }
      // Signing happens before the transaction: the key store (an HSM) is never called inside it.
      const native = await nativeSignature(instanceId, firmware, key);
      const image =
        firmware.format === 'esp32-sbv2' && native
          ? native.blob
          : { sha256: firmware.sha256, size: firmware.size };
      const signed = await signing.manifest(instanceId, { batchId, firmware, image, key });
      const t = now().toISOString();
      const update: UpdateRow = {
        id: randomUUID(),
        batchId,
        firmwareId: firmware.id,
        signingKeyId: key.id,
        imageSha256: image.sha256,
        imageSize: image.size,
        format: firmware.format,
        manifest: signed.manifest,
        manifestIssuedAt: signed.issuedAt,
        manifestExpiresAt: signed.expiresAt,
        createdBy: ctx.actor.name,
        createdAt: t,
        supersededAt: null,
      };
      try {
        await db.kysely.transaction().execute(async (tx) => {
          const superseded = await updates.supersede(instanceId, batchId, t, tx);
          await updates.insert(instanceId, update, tx);
          const devices = await fleet.deviceIds(instanceId, batchId, tx);
          await updates.insertDevices(instanceId, update.id, devices, t, tx);
          await deps.announce?.(tx, { instanceId, batchId, updateId: update.id }, new Date(t));
          const kinds = [
            { kind: 'manifest' as const, blob: null },
            ...(native ? [{ kind: nativeKindOf(firmware.format)!, blob: native.blob }] : []),
          ];
          for (const s of kinds) {
            await repo.insertSignature(
              instanceId,
              {
                id: randomUUID(),
                firmwareId: firmware.id,
                keyId: key.id,
                kind: s.kind,
                blobSha256: s.blob?.sha256 ?? null,
                size: s.blob?.size ?? null,
                createdAt: t,
              },
              tx,
            );
          }
          await fleet.setFirmware(
            instanceId,
            batchId,
            { firmwareId: firmware.id, signingKeyId: key.id },
            tx,
          );
          await recordChange(audit, tx, {
            instanceId,
            ctx,
            action: 'firmware.assign',
            target: { type: 'batch', id: batchId, name: batch.name },
            details: {
              updateId: update.id,
              firmwareId: firmware.id,
              firmwareName: firmware.name,
              version: firmware.version,
              securityVersion: firmware.securityVersion,
              signingKeyId: key.id,
              format: firmware.format,
              imageSha256: image.sha256,
              devices: devices.length,
              supersededUpdates: superseded,
            },
          });
        });
      } catch (err) {
        if (native?.fresh) await deps.release(instanceId, native.blob.sha256);
        if (isUniqueViolation(err))
          throw new ConflictError(
            'another assignment to this batch happened at the same time; try again',
            'concurrent-assignment',
          );
        if (isForeignKeyViolation(err))
          throw new ConflictError('the firmware or batch was deleted meanwhile', 'conflict');
        throw err;
      }
      return view(instanceId, update);
    },

    /** Ends the batch's update: devices are no longer told about it; history stays. */
    async unassign(instanceId: string, batchId: string, ctx: AuditContext): Promise<void> {
      const batch = await batchOf(instanceId, batchId);
      await db.kysely.transaction().execute(async (tx) => {
        const superseded = await updates.supersede(instanceId, batchId, now().toISOString(), tx);
        await fleet.setFirmware(instanceId, batchId, null, tx);
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'firmware.unassign',
          target: { type: 'batch', id: batchId, name: batch.name },
          details: { supersededUpdates: superseded },
        });
      });
    },

    /**
     * The batch's current update, its counts per status and a page of its devices (with
     * `deviceId`, only that device's entry, if it is in the update).
     */
    async rollout(
      instanceId: string,
      batchId: string,
      opts: { offset: number; limit: number; status?: UpdateStatus; deviceId?: string },
    ): Promise<Rollout> {
      await batchOf(instanceId, batchId);
      const u = await updates.current(instanceId, batchId);
      if (!u) {
        return {
          update: null,
          counts: { total: 0, pending: 0, downloading: 0, installing: 0, installed: 0, failed: 0 },
          items: [],
          total: 0,
        };
      }
      const [counts, page] = await Promise.all([
        updates.counts(instanceId, u.id),
        updates.listDevices(instanceId, u.id, opts),
      ]);
      return { update: await view(instanceId, u), counts, ...page };
    },
  };
}
export type RolloutService = ReturnType<typeof createRolloutService>;
