import { sql, type RawBuilder, type Selectable } from 'kysely';
import { compiledQuery } from '../db/compiled-query.js';
import type { Executor } from '../db/database.js';
import type { DeviceColumnRefs } from '../devices/device-lifecycle-repo.js';
import type { FirmwareTables } from './firmware-tables.js';
import {
  UPDATE_STATUSES,
  type FirmwareFormat,
  type RolloutCounts,
  type RolloutDevice,
  type UpdateStatus,
} from './firmware-types.js';

/** One assignment of firmware to a batch, with its signed manifest. */
export interface UpdateRow {
  id: string;
  batchId: string;
  firmwareId: string;
  signingKeyId: string;
  imageSha256: string;
  imageSize: number;
  format: FirmwareFormat;
  manifest: string;
  manifestIssuedAt: string;
  manifestExpiresAt: string;
  createdBy: string;
  createdAt: string;
  supersededAt: string | null;
}

/** Rows per statement in bulk inserts: well under both dialects' bound-parameter limits. */
const CHUNK = 2000;
const WAITING: UpdateStatus[] = ['pending', 'downloading', 'installing'];

/**
 * The update waiting for the device whose columns are named, as a scalar subquery (null when
 * none): its batch's current update unless the device has finished it. Another domain's read
 * of the device (the check-in) selects it in its own statement, so a check-in is one read.
 * `waitingFor` with a batch answers the same (at most one current update per batch: the
 * firmware_updates_current_uq index).
 */
export function waitingUpdateIdOf(d: DeviceColumnRefs): RawBuilder<string | null> {
  return sql<
    string | null
  >`(select u.id from firmware_updates u left join firmware_update_devices fd on fd.instance_id = u.instance_id and fd.update_id = u.id and fd.device_id = ${d.id} where u.instance_id = ${d.instanceId} and u.batch_id = ${d.batchId} and u.superseded_at is null and (fd.status is null or fd.status in (${sql.join(WAITING)})))`;
}

const toUpdate = (r: Selectable<FirmwareTables['firmware_updates']>): UpdateRow => ({
  id: r.id,
  batchId: r.batch_id,
  firmwareId: r.firmware_id,
  signingKeyId: r.signing_key_id,
  imageSha256: r.image_sha256,
  imageSize: Number(r.image_size),
  format: r.format as FirmwareFormat,
  manifest: r.manifest,
  manifestIssuedAt: r.manifest_issued_at,
  manifestExpiresAt: r.manifest_expires_at,
  createdBy: r.created_by,
  createdAt: r.created_at,
  supersededAt: r.superseded_at,
});

const toDevice = (r: Selectable<FirmwareTables['firmware_update_devices']>): RolloutDevice => ({
  deviceId: r.device_id,
  status: r.status as UpdateStatus,
  reason: r.reason,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  downloadingAt: r.downloading_at,
  installingAt: r.installing_at,
  installedAt: r.installed_at,
  failedAt: r.failed_at,
  reportedAt: r.reported_at,
});

/** Updates (assignments) and the status of each device in them. */
export function createFirmwareUpdateRepo(db: Executor) {
  // Every device check-in asks for its batch's waiting update: compiled once.
  const waitingInBatch = compiledQuery(
    db,
    (q, [instanceId, batchId, deviceId]: [string, string, string]) =>
      q
        .selectFrom('firmware_updates as u')
        .leftJoin('firmware_update_devices as d', (j) =>
          j
            .onRef('d.instance_id', '=', 'u.instance_id')
            .onRef('d.update_id', '=', 'u.id')
            .on('d.device_id', '=', deviceId),
        )
        .select(['u.id', 'd.status'])
        .where('u.instance_id', '=', instanceId)
        .where('u.batch_id', '=', batchId)
        .where('u.superseded_at', 'is', null),
    3,
  );
  // Every image range request reads the update: compiled once.
  const byId = compiledQuery(
    db,
    (q, [instanceId, id]: [string, string]) =>
      q
        .selectFrom('firmware_updates')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('id', '=', id),
    2,
  );
  return {
    async insert(instanceId: string, u: UpdateRow, tx: Executor = db): Promise<void> {
      await tx
        .insertInto('firmware_updates')
        .values({
          instance_id: instanceId,
          id: u.id,
          batch_id: u.batchId,
          firmware_id: u.firmwareId,
          signing_key_id: u.signingKeyId,
          image_sha256: u.imageSha256,
          image_size: u.imageSize,
          format: u.format,
          manifest: u.manifest,
          manifest_issued_at: u.manifestIssuedAt,
          manifest_expires_at: u.manifestExpiresAt,
          created_by: u.createdBy,
          created_at: u.createdAt,
          superseded_at: u.supersededAt,
        })
        .execute();
    },
    /** Ends the batch's current update (its history stays); returns how many were ended. */
    async supersede(
      instanceId: string,
      batchId: string,
      now: string,
      tx: Executor = db,
    ): Promise<number> {
      const r = await tx
        .updateTable('firmware_updates')
        .set({ superseded_at: now })
        .where('instance_id', '=', instanceId)
        .where('batch_id', '=', batchId)
        .where('superseded_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async find(instanceId: string, id: string, tx: Executor = db) {
      const [r] = await byId([instanceId, id], tx);
      return r ? toUpdate(r) : undefined;
    },
    async current(instanceId: string, batchId: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('firmware_updates')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('batch_id', '=', batchId)
        .where('superseded_at', 'is', null)
        .executeTakeFirst();
      return r ? toUpdate(r) : undefined;
    },
    /** Removes the (superseded) updates of a firmware; their device rows go too (cascade). */
    async deleteOfFirmware(instanceId: string, firmwareId: string, tx: Executor = db) {
      await tx
        .deleteFrom('firmware_updates')
        .where('instance_id', '=', instanceId)
        .where('firmware_id', '=', firmwareId)
        .execute();
    },
    async renewManifest(
      instanceId: string,
      id: string,
      m: { manifest: string; issuedAt: string; expiresAt: string },
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .updateTable('firmware_updates')
        .set({
          manifest: m.manifest,
          manifest_issued_at: m.issuedAt,
          manifest_expires_at: m.expiresAt,
        })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    /** Starts the update for these devices (pending); call inside the assignment's transaction. */
    async insertDevices(
      instanceId: string,
      updateId: string,
      deviceIds: string[],
      now: string,
      tx: Executor,
    ): Promise<void> {
      for (let i = 0; i < deviceIds.length; i += CHUNK) {
        await tx
          .insertInto('firmware_update_devices')
          .values(
            deviceIds.slice(i, i + CHUNK).map((id) => ({
              instance_id: instanceId,
              update_id: updateId,
              device_id: id,
              status: 'pending',
              reason: null,
              created_at: now,
              updated_at: now,
              downloading_at: null,
              installing_at: null,
              installed_at: null,
              failed_at: null,
              reported_at: null,
            })),
          )
          .execute();
      }
    },
    /** A device registered after the assignment joins the update when it first asks for it. */
    async ensureDevice(
      instanceId: string,
      updateId: string,
      deviceId: string,
      now: string,
      tx: Executor = db,
    ): Promise<RolloutDevice> {
      await tx
        .insertInto('firmware_update_devices')
        .values({
          instance_id: instanceId,
          update_id: updateId,
          device_id: deviceId,
          status: 'pending',
          reason: null,
          created_at: now,
          updated_at: now,
          downloading_at: null,
          installing_at: null,
          installed_at: null,
          failed_at: null,
          reported_at: null,
        })
        .onConflict((oc) => oc.columns(['instance_id', 'update_id', 'device_id']).doNothing())
        .execute();
      const r = await tx
        .selectFrom('firmware_update_devices')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('update_id', '=', updateId)
        .where('device_id', '=', deviceId)
        .executeTakeFirstOrThrow();
      return toDevice(r);
    },
    /**
     * Moves a device's status, only if it is still `from` (a concurrent report that got there
     * first wins); returns whether this call changed it.
     */
    async moveDevice(
      instanceId: string,
      updateId: string,
      deviceId: string,
      change: { from: UpdateStatus; to: UpdateStatus; reason?: string | null; reportedAt?: string },
      now: string,
      tx: Executor = db,
    ): Promise<boolean> {
      const stamp = {
        pending: {},
        downloading: { downloading_at: now },
        installing: { installing_at: now },
        installed: { installed_at: now },
        failed: { failed_at: now },
      }[change.to];
      const r = await tx
        .updateTable('firmware_update_devices')
        .set({
          status: change.to,
          updated_at: now,
          ...stamp,
          ...(change.reason !== undefined && { reason: change.reason }),
          ...(change.reportedAt !== undefined && { reported_at: change.reportedAt }),
        })
        .where('instance_id', '=', instanceId)
        .where('update_id', '=', updateId)
        .where('device_id', '=', deviceId)
        .where('status', '=', change.from)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async counts(instanceId: string, updateId: string, tx: Executor = db): Promise<RolloutCounts> {
      const rows = await tx
        .selectFrom('firmware_update_devices')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('instance_id', '=', instanceId)
        .where('update_id', '=', updateId)
        .groupBy('status')
        .execute();
      const out: RolloutCounts = {
        total: 0,
        pending: 0,
        downloading: 0,
        installing: 0,
        installed: 0,
        failed: 0,
      };
      for (const r of rows) {
        const status = r.status as UpdateStatus;
        if (!UPDATE_STATUSES.includes(status)) continue;
        out[status] += Number(r.n);
        out.total += Number(r.n);
      }
      return out;
    },
    async listDevices(
      instanceId: string,
      updateId: string,
      opts: { offset: number; limit: number; status?: UpdateStatus; deviceId?: string },
      tx: Executor = db,
    ) {
      let q = tx
        .selectFrom('firmware_update_devices')
        .where('instance_id', '=', instanceId)
        .where('update_id', '=', updateId);
      if (opts.status) q = q.where('status', '=', opts.status);
      if (opts.deviceId) q = q.where('device_id', '=', opts.deviceId);
      const [rows, total] = await Promise.all([
        q
          .selectAll()
          .orderBy('updated_at', 'desc')
          .orderBy('device_id')
          .offset(opts.offset)
          .limit(opts.limit)
          .execute(),
        q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items: rows.map(toDevice), total: Number(total.n) };
    },
    /**
     * The update waiting for a device, in one indexed read: with its batch, the batch's current
     * update unless the device has finished it; without, a started and unfinished update.
     */
    async waitingFor(
      instanceId: string,
      deviceId: string,
      batchId?: string,
      tx: Executor = db,
    ): Promise<string | undefined> {
      if (batchId !== undefined) {
        const [r] = await waitingInBatch([instanceId, batchId, deviceId], tx);
        if (!r) return undefined;
        return r.status === null || WAITING.includes(r.status as UpdateStatus) ? r.id : undefined;
      }
      const r = await tx
        .selectFrom('firmware_update_devices as d')
        .innerJoin('firmware_updates as u', (j) =>
          j.onRef('u.instance_id', '=', 'd.instance_id').onRef('u.id', '=', 'd.update_id'),
        )
        .select('u.id')
        .where('d.instance_id', '=', instanceId)
        .where('d.device_id', '=', deviceId)
        .where('u.superseded_at', 'is', null)
        .where('d.status', 'in', WAITING)
        .executeTakeFirst();
      return r?.id;
    },
  };
}
export type FirmwareUpdateRepo = ReturnType<typeof createFirmwareUpdateRepo>;
