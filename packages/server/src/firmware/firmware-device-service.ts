import type { Readable, Writable } from 'node:stream';
import type { AuditService } from '../audit/audit-service.js';
import type { Db } from '../db/database.js';
import type { DeviceIdentity } from '../devices/device-authenticator.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import { NotFoundError } from '../lib/errors.js';
import type { FirmwareBlobStore } from './blob-store.js';
import { manifestNeedsRenewal, statusTransition } from './firmware-fns.js';
import type { FirmwareRepo } from './firmware-repo.js';
import type { FirmwareSigning } from './firmware-signing.js';
import type { UpdateStatus } from './firmware-types.js';
import type { FirmwareUpdateRepo, UpdateRow } from './firmware-update-repo.js';

export interface FirmwareDeviceServiceDeps {
  db: Db;
  repo: FirmwareRepo;
  updates: FirmwareUpdateRepo;
  blobs: FirmwareBlobStore;
  keystore: KeyStore;
  signing: FirmwareSigning;
  audit: AuditService;
  now?: () => Date;
}

/** An update's pointer in the check-in answer (PROTOCOL.md `update`). */
export interface PendingUpdate {
  id: string;
  manifestUrl: string;
}

/** A device's report, as the protocol carries it. */
export interface DeviceReport {
  status: Exclude<UpdateStatus, 'pending'>;
  detail?: string;
  at: string;
}

/**
 * The device side of updates: manifest, image, signature and reports, each for the device the
 * request proved. A device sees only its batch's current update; anything else is "not found",
 * so it learns nothing about other batches.
 */
export function createFirmwareDeviceService(deps: FirmwareDeviceServiceDeps) {
  const { db, repo, updates, blobs, keystore, signing, audit } = deps;
  const now = deps.now ?? (() => new Date());
  const notFound = () => new NotFoundError('no such update for this device');

  /**
   * Devices whose row for an update exists and is past `pending`, so that a download's later
   * range requests skip two writes that would change nothing (both only move forward). Only
   * writes are skipped: every request still reads the update and checks batch and supersession.
   * Bounded: cleared when it grows large (the cost is one repeated no-op write per device).
   */
  const downloading = new Set<string>();
  const DOWNLOADING_MAX = 100_000;
  const keyOf = (device: DeviceIdentity, updateId: string) =>
    `${device.instanceId}/${updateId}/${device.deviceId}`;

  /** The update if it is this device's batch's current one; the device joins it if new. */
  async function current(
    device: DeviceIdentity,
    updateId: string,
    opts: { joined?: boolean } = {},
  ): Promise<UpdateRow> {
    const u = await updates.find(device.instanceId, updateId);
    if (!u || u.batchId !== device.batchId || u.supersededAt) throw notFound();
    if (!opts.joined)
      await updates.ensureDevice(device.instanceId, u.id, device.deviceId, now().toISOString());
    return u;
  }

  /** Re-signs a manifest past half its lifetime, so devices never get one about to expire. */
  async function freshManifest(instanceId: string, u: UpdateRow): Promise<string> {
    if (!manifestNeedsRenewal(u.manifestIssuedAt, u.manifestExpiresAt, now())) return u.manifest;
    const [firmware, key] = await Promise.all([
      repo.find(instanceId, u.firmwareId),
      keystore.publicKey(instanceId, u.signingKeyId),
    ]);
    if (!firmware) throw notFound();
    const signed = await signing.manifest(instanceId, {
      batchId: u.batchId,
      firmware,
      image: { sha256: u.imageSha256, size: u.imageSize },
      key,
    });
    await updates.renewManifest(instanceId, u.id, signed);
    return signed.manifest;
  }

  return {
    /** The signed manifest (JWS compact) of an update. */
    async manifest(device: DeviceIdentity, updateId: string): Promise<string> {
      return freshManifest(device.instanceId, await current(device, updateId));
    },

    /**
     * The image a device downloads; the first request moves the device to `downloading`. A
     * device is told the digest (ETag) and size, and opens the range it asks for.
     */
    async image(device: DeviceIdentity, updateId: string) {
      const key = keyOf(device, updateId);
      const known = downloading.has(key);
      const u = await current(device, updateId, { joined: known });
      if (!known) {
        await updates.moveDevice(
          device.instanceId,
          u.id,
          device.deviceId,
          { from: 'pending', to: 'downloading' },
          now().toISOString(),
        );
        if (downloading.size >= DOWNLOADING_MAX) downloading.clear();
        downloading.add(key);
      }
      return {
        sha256: u.imageSha256,
        size: u.imageSize,
        open: (range?: { start: number; end: number }): Promise<Readable> =>
          blobs.get(device.instanceId, u.imageSha256, range),
        send: blobs.send
          ? (range: { start: number; end: number }, out: Writable) =>
              blobs.send!(device.instanceId, u.imageSha256, range, out)
          : undefined,
      };
    },

    /** The detached CMS signature (DER) of a Linux bundle update. */
    async signature(device: DeviceIdentity, updateId: string) {
      const u = await current(device, updateId);
      const s = await repo.findSignature(device.instanceId, u.firmwareId, u.signingKeyId, 'cms');
      if (!s?.blobSha256) throw notFound();
      return blobs.get(device.instanceId, s.blobSha256);
    },

    /**
     * Records a device's report. Statuses only move forward, so a late or repeated report
     * changes nothing; a failure is audited with the device's reason. Reports about an update
     * that was superseded meanwhile are still recorded: they say what the device did.
     */
    async report(device: DeviceIdentity, updateId: string, report: DeviceReport): Promise<void> {
      const u = await updates.find(device.instanceId, updateId);
      if (!u || u.batchId !== device.batchId) throw notFound();
      const t = now().toISOString();
      const row = await updates.ensureDevice(device.instanceId, u.id, device.deviceId, t);
      if (!statusTransition(row.status, report.status).move) return;
      // The move and, for a failure, its audit entry commit together.
      await db.kysely.transaction().execute(async (tx) => {
        const moved = await updates.moveDevice(
          device.instanceId,
          u.id,
          device.deviceId,
          {
            from: row.status,
            to: report.status,
            reason: report.status === 'failed' ? (report.detail ?? 'no reason given') : null,
            reportedAt: report.at,
          },
          t,
          tx,
        );
        if (!moved || report.status !== 'failed') return;
        await audit.record(
          {
            instanceId: device.instanceId,
            actor: { type: 'device', id: device.deviceId, name: device.deviceId },
            action: 'firmware.update.failed',
            target: { type: 'firmware-update', id: u.id },
            result: 'failed',
            details: {
              batchId: u.batchId,
              firmwareId: u.firmwareId,
              previousStatus: row.status,
              reason: report.detail ?? null,
              reportedAt: report.at,
            },
          },
          tx,
        );
      });
    },

    /**
     * For the check-in (GET /device/v1/status): the update waiting for a device, if any. One
     * indexed read, no signing. Pass the device's batch when known (the authenticator has it),
     * so a device registered after the assignment is told too.
     */
    /** The check-in's pointer to an update found waiting for a device. */
    updatePointer: (id: string): PendingUpdate => ({
      id,
      manifestUrl: `/device/v1/updates/${id}/manifest`,
    }),

    async pendingUpdateFor(
      instanceId: string,
      deviceId: string,
      batchId?: string,
    ): Promise<PendingUpdate | undefined> {
      const id = await updates.waitingFor(instanceId, deviceId, batchId);
      return id ? { id, manifestUrl: `/device/v1/updates/${id}/manifest` } : undefined;
    },
  };
}
export type FirmwareDeviceService = ReturnType<typeof createFirmwareDeviceService>;
