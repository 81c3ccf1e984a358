import type { Executor } from '../db/database.js';

/** A live session with the device it belongs to. */
export interface DeviceSessionRecord {
  id: string;
  deviceId: string;
  expiresAt: string;
}

/** Device bearer sessions of one instance; only the token's SHA-256 is stored. */
export function createDeviceSessionRepo(db: Executor) {
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
      const r = await tx
        .selectFrom('device_sessions')
        .select(['id', 'device_id', 'expires_at'])
        .where('instance_id', '=', instanceId)
        .where('token_hash', '=', tokenHash)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return r ? { id: r.id, deviceId: r.device_id, expiresAt: r.expires_at } : undefined;
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
