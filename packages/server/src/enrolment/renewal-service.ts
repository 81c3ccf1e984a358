import type { CertificateResponse } from '@trustlink/protocol';
import type { AuditService } from '../audit/audit-service.js';
import type { BatchRow } from '../batches/batch-repo.js';
import type { Device } from '../devices/device-repo.js';
import type { RenewalCandidate } from '../devices/device-lifecycle-repo.js';
import { addDuration } from '../lib/duration.js';
import type { Policy } from '../policies/policy-types.js';
import type { DeviceCertService } from '../pki/device-cert-service.js';
import { parseCsr } from '../pki/csr-fns.js';
import { checkDeviceCsr } from './csr-check.js';
import { deviceAuditContext, type DeviceAudit, type DeviceRequestContext } from './device-audit.js';
import type { DeviceIssuance } from './device-issuance.js';

export interface RenewalServiceDeps {
  issuance: DeviceIssuance;
  audit: DeviceAudit;
  /** The audit log itself, for the lifecycle job's own entries. */
  auditLog: Pick<AuditService, 'record'>;
  batches: { find(instanceId: string, id: string): Promise<BatchRow | undefined> };
  policies: { find(instanceId: string, id: string): Promise<Policy | undefined> };
  devices: { find(instanceId: string, id: string): Promise<Device | undefined> };
  deviceCerts: Pick<DeviceCertService, 'get'>;
  now?: () => Date;
}

/** How a renewing device authenticated. */
export type RenewVia = 'tls' | 'bearer' | 'proof';

const LIFECYCLE_ACTOR = { type: 'system' as const, name: 'lifecycle' };

/**
 * Renewal by the device (with its certificate or session; after expiry only with a fresh
 * proof of its identity key, within the policy's grace period), automatic renewal by the
 * platform for the same key, and fetching the current certificate.
 */
export function createRenewalService(deps: RenewalServiceDeps) {
  const { issuance, audit } = deps;
  const now = deps.now ?? (() => new Date());

  async function policyOf(instanceId: string, batchId: string) {
    const batch = await deps.batches.find(instanceId, batchId);
    const policy = batch && (await deps.policies.find(instanceId, batch.policyId));
    return batch && policy ? { batch, policy } : undefined;
  }

  async function renew(
    ctx: DeviceRequestContext,
    device: Device,
    csrDer: Buffer,
    via: RenewVia,
  ): Promise<{ response: CertificateResponse; certificate: Buffer }> {
    const action = 'device.renew';
    const { instanceId } = ctx;
    ctx.deviceId = device.id;
    if (device.state === 'revoked')
      throw await audit.refuse(ctx, action, 'revoked', 'device is revoked', { via });
    if (!device.currentCertId || !device.certNotAfter) {
      throw await audit.refuse(
        ctx,
        action,
        'unauthorized',
        'device has never enrolled: enrol first',
        { via },
      );
    }
    const found = await policyOf(instanceId, device.batchId);
    if (!found)
      throw await audit.refuse(
        ctx,
        action,
        'unauthorized',
        'the device batch or its policy is gone',
      );
    const { policy } = found;
    const t = now();
    if (via === 'proof' && Date.parse(device.certNotAfter) <= t.getTime()) {
      const graceEnd = addDuration(
        new Date(device.certNotAfter),
        policy.deviceCertificate.renewGracePeriod,
      );
      if (t.getTime() >= graceEnd.getTime()) {
        throw await audit.refuse(
          ctx,
          action,
          'unauthorized',
          `certificate expired at ${device.certNotAfter} and the grace period for renewal ended at ${graceEnd.toISOString()}: enrol again`,
          { via },
        );
      }
    }
    const csr = await checkDeviceCsr(csrDer, device.id, policy);
    if (!csr.ok)
      throw await audit.refuse(ctx, action, csr.invalid ? 'invalid' : 'unauthorized', csr.reason, {
        via,
      });
    const cert = await issuance.issue({
      instanceId,
      deviceId: device.id,
      batchId: device.batchId,
      policy,
      csrDer,
      checkedCsr: csr.csr,
      operationalKey: csr.operationalKey,
      register: false,
      expectCertId: device.currentCertId,
      state: 'renewed',
      context: deviceAuditContext(ctx),
      audit: (tx, rec) =>
        audit.ok(
          ctx,
          action,
          {
            via,
            serial: rec.serial,
            issuerId: rec.issuerId,
            notAfter: rec.notAfter,
            previous: device.currentSerial,
          },
          tx,
        ),
    });
    const { root: _root, ...response } = await issuance.certificateResponse(instanceId, cert);
    return { response, certificate: cert.der };
  }

  /** The device's current certificate (after an auto-renewal, the device fetches it here). */
  async function current(ctx: DeviceRequestContext, device: Device): Promise<CertificateResponse> {
    ctx.deviceId = device.id;
    if (!device.currentCertId)
      throw await audit.refuse(
        ctx,
        'device.certificate.fetch',
        'unauthorized',
        'device has no certificate',
      );
    const cert = await deps.deviceCerts.get(ctx.instanceId, device.currentCertId);
    const { root: _root, ...response } = await issuance.certificateResponse(ctx.instanceId, cert);
    return response;
  }

  /**
   * Re-issues a certificate for the same key from the CSR it was issued from, when the
   * device's policy auto-renews. Returns false when it did not (policy says no, the device
   * changed meanwhile).
   */
  async function autoRenew(c: RenewalCandidate): Promise<boolean> {
    const found = await policyOf(c.instanceId, c.batchId);
    if (!found?.policy.deviceCertificate.autoRenew) return false;
    const parsed = parseCsr(c.csr);
    if (!parsed.ok) return false;
    const device = await deps.devices.find(c.instanceId, c.id);
    if (!device || device.currentCertId !== c.currentCertId) return false;
    const context = { actor: LIFECYCLE_ACTOR, sourceAddress: null };
    await issuance.issue({
      instanceId: c.instanceId,
      deviceId: c.id,
      batchId: c.batchId,
      policy: found.policy,
      csrDer: c.csr,
      operationalKey: parsed.csr.key.deviceId !== c.id,
      register: false,
      expectCertId: c.currentCertId,
      state: 'renewed',
      context,
      audit: async (tx, rec) => {
        await deps.auditLog.record(
          {
            instanceId: c.instanceId,
            actor: LIFECYCLE_ACTOR,
            action: 'device.auto-renew',
            target: { type: 'device', id: c.id },
            result: 'ok',
            details: { serial: rec.serial, notAfter: rec.notAfter, previous: device.currentSerial },
          },
          tx,
        );
      },
    });
    return true;
  }

  return { renew, current, autoRenew };
}
export type RenewalService = ReturnType<typeof createRenewalService>;
