import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import { recordChange } from '../audit/record-change.js';
import type { Db, Executor } from '../db/database.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';
import type { RevocationReason } from '../pki/crl-fns.js';
import type { DeviceCertService } from '../pki/device-cert-service.js';
import type { Policy } from '../policies/policy-types.js';
import type { DeviceEvents } from './device-events.js';
import type { DeviceLifecycleRepo } from './device-lifecycle-repo.js';
import type { Device, DeviceRepo } from './device-repo.js';

/** The outbox topic that tells a device's hub to drop it. */
export const HUB_DEVICE_REVOKED = 'hub.device-revoked';

export interface DeviceRevocationDeps {
  db: Db;
  devices: Pick<DeviceRepo, 'find'>;
  lifecycle: Pick<DeviceLifecycleRepo, 'markRevoked'>;
  deviceCerts: Pick<DeviceCertService, 'list' | 'revoke'>;
  sessions: { endAll(instanceId: string, deviceId: string, tx?: Executor): Promise<number> };
  outbox: Pick<OutboxRepo, 'enqueue'>;
  policyOfBatch(instanceId: string, batchId: string): Promise<Policy | undefined>;
  audit: AuditService;
  events: Pick<DeviceEvents, 'emit'>;
  now?: () => Date;
}

/**
 * Revoking a device: one transaction marks it revoked, revokes every certificate it still
 * holds (CRL and OCSP follow), ends its sessions, asks its hub (through the outbox) to drop
 * it, and records the change; after the commit the 'revoked' event closes its open
 * connections and tells the brokers. Final: a revoked device never enrols again.
 */
export function createDeviceRevocationService(deps: DeviceRevocationDeps) {
  const now = deps.now ?? (() => new Date());
  return {
    async revoke(
      instanceId: string,
      deviceId: string,
      reason: RevocationReason,
      ctx: AuditContext,
    ): Promise<Device> {
      const id = deviceId.toLowerCase();
      const device = await deps.devices.find(instanceId, id);
      if (!device) throw new NotFoundError(`device ${deviceId} not found`);
      if (device.state === 'revoked')
        throw new ConflictError(`device ${id} is already revoked`, 'already-revoked');
      const certs = await deps.deviceCerts.list(instanceId, {
        deviceId: id,
        status: 'valid',
        limit: 1000,
        offset: 0,
      });
      const policy = await deps.policyOfBatch(instanceId, device.batchId);
      const t = now();
      const at = t.toISOString();
      await deps.db.kysely.transaction().execute(async (tx) => {
        if (!(await deps.lifecycle.markRevoked(instanceId, id, reason, at, tx)))
          throw new ConflictError(`device ${id} is already revoked`, 'already-revoked');
        for (const c of certs) await deps.deviceCerts.revoke(instanceId, c.id, reason, ctx, tx);
        const sessions = await deps.sessions.endAll(instanceId, id, tx);
        // Only a policy with a hub has one to tell; devices of other policies have no hub to sync.
        if (policy?.hubId) {
          await deps.outbox.enqueue(
            tx,
            {
              instanceId,
              topic: HUB_DEVICE_REVOKED,
              subject: id,
              payload: { hubId: policy.hubId, deviceId: id, reason, revokedAt: at },
            },
            t,
          );
        }
        await recordChange(deps.audit, tx, {
          instanceId,
          ctx,
          action: 'device.revoke',
          target: { type: 'device', id },
          details: {
            reason,
            previousState: device.state,
            certificates: certs.map((c) => c.serial),
            sessionsEnded: sessions,
            hubNotified: Boolean(policy?.hubId),
          },
        });
      });
      // A certificate committed between the listing above and the transaction (a concurrent
      // enrolment) is revoked now; none can follow, since a revoked device gets no certificate.
      const late = await deps.deviceCerts.list(instanceId, {
        deviceId: id,
        status: 'valid',
        limit: 1000,
        offset: 0,
      });
      for (const c of late)
        await deps.deviceCerts.revoke(instanceId, c.id, reason, ctx).catch(() => undefined);
      deps.events.emit({ type: 'revoked', instanceId, deviceId: id, reason });
      return (await deps.devices.find(instanceId, id))!;
    },
  };
}
export type DeviceRevocationService = ReturnType<typeof createDeviceRevocationService>;
