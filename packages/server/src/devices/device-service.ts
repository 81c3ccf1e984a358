import type { BatchRow } from '../batches/batch-repo.js';
import type { AuditContext } from '../audit/audit-types.js';
import { NotFoundError } from '../lib/errors.js';
import type { OutboxEntry } from '../outbox/outbox-repo.js';
import type { RevocationReason } from '../pki/crl-fns.js';
import type { DeviceCertificateRecord } from '../pki/device-cert-repo.js';
import type { DeviceRevocationService } from './device-revocation-service.js';
import type { BatchCounts, Device, DeviceRepo, DeviceState } from './device-repo.js';

export interface DeviceServiceDeps {
  devices: Pick<DeviceRepo, 'find' | 'list' | 'countsByBatch'>;
  batches: { list(instanceId: string): Promise<BatchRow[]> };
  certificates(instanceId: string, deviceId: string): Promise<DeviceCertificateRecord[]>;
  hubSync(instanceId: string, deviceId: string): Promise<OutboxEntry[]>;
  revocation: DeviceRevocationService;
  now?: () => Date;
}

/** A device as operators see it: its state and times, its certificates, its hub sync. */
export interface DeviceDetail extends Device {
  batchName: string;
  policyId: string;
  policyName: string;
  certificates: {
    id: string;
    serial: string;
    issuerId: string;
    notBefore: string;
    notAfter: string;
    status: 'valid' | 'expired' | 'revoked';
    revocationReason: string | null;
    revokedAt: string | null;
    current: boolean;
  }[];
  hubSync: {
    id: string;
    topic: string;
    status: OutboxEntry['status'];
    attempts: number;
    lastError: string | null;
    createdAt: string;
    doneAt: string | null;
  }[];
}

export interface DeviceSummary {
  /** As batch counts count them: enrolled includes renewed. */
  total: BatchCounts & { registered: number };
  batches: { batchId: string; batchName: string; counts: BatchCounts }[];
}

const ZERO: BatchCounts = { devices: 0, enrolled: 0, renewed: 0, expired: 0, revoked: 0 };

/** Reading devices for operators (list, detail, dashboard figures) and revoking them. */
export function createDeviceService(deps: DeviceServiceDeps) {
  const now = deps.now ?? (() => new Date());
  return {
    list: (
      instanceId: string,
      opts: { offset: number; limit: number; batchId?: string; state?: DeviceState; q?: string },
    ) => deps.devices.list(instanceId, opts),

    async get(instanceId: string, id: string): Promise<DeviceDetail> {
      const device = await deps.devices.find(instanceId, id.toLowerCase());
      if (!device) throw new NotFoundError(`device ${id} not found`);
      const [batches, certs, sync] = await Promise.all([
        deps.batches.list(instanceId),
        deps.certificates(instanceId, device.id),
        deps.hubSync(instanceId, device.id),
      ]);
      const batch = batches.find((b) => b.id === device.batchId);
      const t = now().getTime();
      return {
        ...device,
        batchName: batch?.name ?? device.batchId,
        policyId: batch?.policyId ?? '',
        policyName: batch?.policyName ?? '',
        certificates: certs.map((c) => ({
          id: c.id,
          serial: c.serial,
          issuerId: c.issuerId,
          notBefore: c.notBefore,
          notAfter: c.notAfter,
          status:
            c.status === 'revoked' ? 'revoked' : Date.parse(c.notAfter) <= t ? 'expired' : 'valid',
          revocationReason: c.revocationReason,
          revokedAt: c.revokedAt,
          current: c.id === device.currentCertId,
        })),
        hubSync: sync.map((e) => ({
          id: e.id,
          topic: e.topic,
          status: e.status,
          attempts: e.attempts,
          lastError: e.lastError,
          createdAt: e.createdAt,
          doneAt: e.doneAt,
        })),
      };
    },

    /** The dashboard's figures: devices by state, in all and per batch. */
    async summary(instanceId: string): Promise<DeviceSummary> {
      const [counts, batches] = await Promise.all([
        deps.devices.countsByBatch(instanceId),
        deps.batches.list(instanceId),
      ]);
      const total = { ...ZERO, registered: 0 };
      for (const c of counts.values()) {
        total.devices += c.devices;
        total.enrolled += c.enrolled;
        total.renewed += c.renewed;
        total.expired += c.expired;
        total.revoked += c.revoked;
      }
      total.registered = total.devices - total.enrolled - total.expired - total.revoked;
      return {
        total,
        batches: batches.map((b) => ({
          batchId: b.id,
          batchName: b.name,
          counts: counts.get(b.id) ?? { ...ZERO },
        })),
      };
    },

    revoke: (instanceId: string, id: string, reason: RevocationReason, ctx: AuditContext) =>
      deps.revocation.revoke(instanceId, id, reason, ctx),
  };
}
export type DeviceService = ReturnType<typeof createDeviceService>;
