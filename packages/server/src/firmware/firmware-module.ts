import path from 'node:path';
import type { AuditService } from '../audit/audit-service.js';
import type { BatchService } from '../batches/batch-service.js';
import type { Db, Executor } from '../db/database.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import { createKeyedLock } from '../lib/keyed-lock.js';
import type { InstancePki } from '../pki/instance-pki.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';
import type { Pki } from '../pki/pki-module.js';
import type { FirmwareBlobStore } from './blob-store.js';
import { createCachedBlobStore } from './cached-blob-store.js';
import { createFileBlobStore } from './file-blob-store.js';
import { createFirmwareDeviceService } from './firmware-device-service.js';
import { enqueueFirmwareAnnouncement } from './firmware-notify.js';
import { createFirmwareRepo } from './firmware-repo.js';
import { createRolloutService } from './firmware-rollout-service.js';
import { createFirmwareService } from './firmware-service.js';
import { createSignerCertificates } from './firmware-signer-cert.js';
import { createFirmwareSigning } from './firmware-signing.js';
import { createFirmwareUpdateRepo } from './firmware-update-repo.js';

export interface FirmwareModuleDeps {
  db: Db;
  audit: AuditService;
  keystore: KeyStore;
  instancePki: Pick<InstancePki, 'root'>;
  pki: Pick<Pki, 'keyUsage' | 'signingKeys'>;
  batches: BatchService;
  config: {
    dataDir: string;
    firmwareMaxBytes: number;
    firmwareManifestDays: number;
    firmwareCacheBytes: number;
  };
  /** Where blobs live; files under `<dataDir>/firmware/` unless another store is given. */
  blobs?: FirmwareBlobStore;
  /** Where assignments record that devices are to be told over MQTT (firmware-notify.ts). */
  outbox?: Pick<OutboxRepo, 'enqueue'>;
  now?: () => Date;
}

type AnnounceEvent = { instanceId: string; batchId: string; updateId: string };

/** Uploads older than this without finishing are from a crashed or killed process. */
const STALE_UPLOAD_MS = 24 * 3600 * 1000;

/**
 * The firmware domain wired once: catalogue (upload, list, edit, delete), rollouts
 * (assignment, signing, progress) and the device side (manifest, image, reports, check-in).
 * It tells the PKI that a signing key assigned to a batch is in use.
 */
export function createFirmware(deps: FirmwareModuleDeps) {
  const { db, audit, keystore, batches, config } = deps;
  const now = deps.now ?? (() => new Date());
  const files = deps.blobs ? undefined : createFileBlobStore(path.join(config.dataDir, 'firmware'));
  // Images being downloaded are held in memory in front of either store (cached-blob-store.ts).
  const blobs = createCachedBlobStore(deps.blobs ?? files!, {
    maxBytes: config.firmwareCacheBytes,
  });
  void files?.removeStaleUploads(STALE_UPLOAD_MS).catch(() => undefined);
  const repo = createFirmwareRepo(db.kysely);
  const updates = createFirmwareUpdateRepo(db.kysely);
  const lock = createKeyedLock();
  const signing = createFirmwareSigning({
    keystore,
    blobs,
    signerCerts: createSignerCertificates({ repo, keystore, instancePki: deps.instancePki, now }),
    now,
    manifestLifetimeSeconds: config.firmwareManifestDays * 24 * 3600,
  });
  const catalog = createFirmwareService({
    db,
    repo,
    updates,
    blobs,
    lock,
    audit,
    maxBytes: config.firmwareMaxBytes,
    now,
    refs: {
      assignments: (instanceId) => batches.assignments(instanceId),
      signingKeyNames: async (instanceId) =>
        new Map((await deps.pki.signingKeys.list(instanceId)).map((k) => [k.id, k.name])),
    },
  });
  const rollouts = createRolloutService({
    db,
    repo,
    updates,
    blobs,
    keystore,
    signing,
    audit,
    now,
    release: catalog.release,
    ...(deps.outbox
      ? {
          announce: (tx: Executor, e: AnnounceEvent, t: Date) =>
            enqueueFirmwareAnnouncement(deps.outbox!, tx, e, t),
        }
      : {}),
    fleet: {
      find: (instanceId, batchId) => batches.find(instanceId, batchId),
      deviceIds: (instanceId, batchId, tx) => batches.deviceIds(instanceId, batchId, tx),
      setFirmware: (instanceId, batchId, assignment, tx) =>
        batches.setFirmware(instanceId, batchId, assignment, tx),
    },
  });
  const devices = createFirmwareDeviceService({
    db,
    repo,
    updates,
    blobs,
    keystore,
    signing,
    audit,
    now,
  });
  // A key a batch signs its firmware with cannot be deleted (it would strand the rollout).
  deps.pki.keyUsage.register('firmware', (instanceId, keyId) =>
    batches.signingKeyUsers(instanceId, keyId),
  );
  return {
    catalog,
    rollouts,
    devices,
    blobs,
    maxBytes: config.firmwareMaxBytes,
    /** The batch's current update id (the MQTT notifier skips superseded ones). */
    currentUpdateId: async (instanceId: string, batchId: string) =>
      (await updates.current(instanceId, batchId))?.id,
  };
}
export type FirmwareModule = ReturnType<typeof createFirmware>;
