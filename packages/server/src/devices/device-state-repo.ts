import type { Executor } from '../db/database.js';

/**
 * Device state changes: enrolled (first certificate) and revoked. The enrolment and revocation
 * services call these inside the transaction that issues or revokes the certificate, so the
 * state and the certificate never disagree.
 */
export function createDeviceStateRepo(db: Executor) {
  return {
    /** Marks a registered (or re-enrolling) device enrolled; false when it is unknown or revoked. */
    async markEnrolled(instanceId: string, id: string, at: string, tx: Executor = db) {
      const r = await tx
        .updateTable('devices')
        .set({ state: 'enrolled', enrolled_at: at })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .where('state', '!=', 'revoked')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** Marks a device revoked; false when it is unknown or already revoked. */
    async markRevoked(instanceId: string, id: string, at: string, tx: Executor = db) {
      const r = await tx
        .updateTable('devices')
        .set({ state: 'revoked', revoked_at: at })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .where('state', '!=', 'revoked')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
  };
}
export type DeviceStateRepo = ReturnType<typeof createDeviceStateRepo>;
