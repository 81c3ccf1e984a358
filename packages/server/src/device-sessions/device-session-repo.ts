import { sql } from 'kysely';
import { compiledQuery } from '../db/compiled-query.js';
import type { Executor } from '../db/database.js';
import { DEVICE_D_REFS, type DeviceSubquery } from '../devices/device-lifecycle-repo.js';
import { DEVICE_COLUMNS, toDevice, type Device } from '../devices/device-repo.js';

/** A live session with the device it belongs to. */
export interface DeviceSessionRecord {
  id: string;
  deviceId: string;
  expiresAt: string;
}

/** Device bearer sessions of one instance; only the token's SHA-256 is stored. */
export function createDeviceSessionRepo(db: Executor, opts: { alongside?: DeviceSubquery } = {}) {
  // Every check-in with a bearer handle runs one of these: compiled once.
  const live = compiledQuery(
    db,
    (q, [instanceId, tokenHash, now]: [string, string, string]) =>
      q
        .selectFrom('device_sessions')
        .select(['id', 'device_id', 'expires_at'])
        .where('instance_id', '=', instanceId)
        .where('token_hash', '=', tokenHash)
        .where('expires_at', '>', now),
    3,
  );
  const withDeviceQuery = (q: Executor, instanceId: string, tokenHash: string, now: string) =>
    q
      .selectFrom('device_sessions as s')
      .innerJoin('devices as d', (j) =>
        j.onRef('d.instance_id', '=', 's.instance_id').onRef('d.id', '=', 's.device_id'),
      )
      .select([
        's.id as session_id',
        's.expires_at as session_expires_at',
        ...DEVICE_COLUMNS.map((k) => `d.${k}` as const),
      ])
      .where('s.instance_id', '=', instanceId)
      .where('s.token_hash', '=', tokenHash)
      .where('s.expires_at', '>', now);
  const liveWithDevice = compiledQuery(
    db,
    (q, [instanceId, tokenHash, now]: [string, string, string]) =>
      withDeviceQuery(q, instanceId, tokenHash, now),
    3,
  );
  // The check-in with a bearer handle: the session, its device and the `alongside` value.
  const liveWithDeviceAlongside = compiledQuery(
    db,
    (q, [instanceId, tokenHash, now]: [string, string, string]) =>
      withDeviceQuery(q, instanceId, tokenHash, now).select(
        (opts.alongside?.(DEVICE_D_REFS) ?? sql<string | null>`null`).as('alongside'),
      ),
    3,
  );
  return {
    async insert(
      instanceId: string,
      s: DeviceSessionRecord & { tokenHash: string; createdAt: string },
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .insertInto('device_sessions')
        .values({
          instance_id: instanceId,
          id: s.id,
          device_id: s.deviceId,
          token_hash: s.tokenHash,
          expires_at: s.expiresAt,
          created_at: s.createdAt,
        })
        .execute();
    },
    /** The unexpired session holding this token hash, if any. */
    async findLive(
      instanceId: string,
      tokenHash: string,
      now: string,
      tx: Executor = db,
    ): Promise<DeviceSessionRecord | undefined> {
      const [r] = await live([instanceId, tokenHash, now], tx);
      return r ? { id: r.id, deviceId: r.device_id, expiresAt: r.expires_at } : undefined;
    },
    /**
     * The unexpired session holding this token hash with its device, in one read: what a
     * request with a bearer handle needs (the device's state is read on every request, so a
     * revocation is seen at once). Undefined also when the device no longer exists.
     */
    async findLiveWithDevice(
      instanceId: string,
      tokenHash: string,
      now: string,
      tx: Executor = db,
    ): Promise<{ session: DeviceSessionRecord; device: Device } | undefined> {
      const [r] = await liveWithDevice([instanceId, tokenHash, now], tx);
      if (!r) return undefined;
      return {
        session: { id: r.session_id, deviceId: r.id, expiresAt: r.session_expires_at },
        device: toDevice(r),
      };
    },
    /** findLiveWithDevice, with the `alongside` value of the device read in the same statement. */
    async findLiveWithDeviceAlongside(
      instanceId: string,
      tokenHash: string,
      now: string,
    ): Promise<
      { session: DeviceSessionRecord; device: Device; alongside: string | null } | undefined
    > {
      const [r] = await liveWithDeviceAlongside([instanceId, tokenHash, now]);
      if (!r) return undefined;
      return {
        session: { id: r.session_id, deviceId: r.id, expiresAt: r.session_expires_at },
        device: toDevice(r),
        alongside: r.alongside,
      };
    },
    /** Ends every session of a device (revocation); returns how many there were. */
    async deleteForDevice(instanceId: string, deviceId: string, tx: Executor = db) {
      const r = await tx
        .deleteFrom('device_sessions')
        .where('instance_id', '=', instanceId)
        .where('device_id', '=', deviceId)
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    /** Removes expired sessions of every instance. */
    async purgeExpired(now: string, tx: Executor = db): Promise<number> {
      const r = await tx
        .deleteFrom('device_sessions')
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
export type DeviceSessionRepo = ReturnType<typeof createDeviceSessionRepo>;
