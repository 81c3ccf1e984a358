import type { KeyObject } from 'node:crypto';
import {
  deviceIdFromSpki,
  spkiFromCertificate,
  type EnrolResponse,
  type KeyType,
} from '@trustlink/protocol';
import type { BatchRow } from '../batches/batch-repo.js';
import type { Device } from '../devices/device-repo.js';
import type { DeviceLifecycleRepo } from '../devices/device-lifecycle-repo.js';
import type { Policy } from '../policies/policy-types.js';
import type { DeviceCertService } from '../pki/device-cert-service.js';
import { checkDeviceCsr } from './csr-check.js';
import { deviceAuditContext, type DeviceAudit, type DeviceRequestContext } from './device-audit.js';
import { currentIsFresh, type DeviceIssuance } from './device-issuance.js';
import type { EnrolmentHooks } from './enrolment-hooks.js';
import { decideEnrolment, type EnrolmentMethod } from './enrolment-methods.js';

/** How a device proved the key it enrols with. */
export type EnrolCredential =
  /**
   * The identity key itself: a self-signed bootstrap certificate over TLS, or a proof with spki=.
   * `key`: the same key as OpenSSL decoded it from `spki` (the bootstrap certificate's), so the
   * canonical check and the CSR's signature check do not decode it again.
   */
  | { kind: 'key'; spki: Buffer; key?: KeyObject; via: 'tls-bootstrap' | 'proof' }
  /** A certificate for the identity key that is not ours: a factory certificate. */
  | { kind: 'factory'; certificate: Buffer; intermediates: Buffer[]; via: 'tls' | 'proof' }
  /** One of our device certificates (re-enrolment of an enrolled device). */
  | { kind: 'device-certificate'; issuerId: string; serial: string; via: 'tls' | 'proof' };

export interface EnrolInput {
  csrDer: Buffer;
  token?: string;
  credential: EnrolCredential;
}

export interface EnrolResult {
  response: EnrolResponse;
  /** The device certificate (DER), for EST's PKCS#7 answer. */
  certificate: Buffer;
  /** False when the current certificate was handed out again (idempotent re-enrolment). */
  issued: boolean;
}

export interface EnrolmentServiceDeps {
  methods: readonly EnrolmentMethod[];
  issuance: DeviceIssuance;
  audit: DeviceAudit;
  hooks: Pick<EnrolmentHooks, 'hubConnection' | 'databaseConnection'>;
  devices: { find(instanceId: string, id: string): Promise<Device | undefined> };
  lifecycle: Pick<DeviceLifecycleRepo, 'findByCertificate'>;
  batches: { find(instanceId: string, id: string): Promise<BatchRow | undefined> };
  policies: { find(instanceId: string, id: string): Promise<Policy | undefined> };
  deviceCerts: Pick<DeviceCertService, 'get'>;
  now?: () => Date;
}

const ACTION = 'device.enrol';

/**
 * Enrolment (PROTOCOL.md "Enrol"), for the device API and EST alike: the device has proven a
 * key; the enrolment methods decide whether and into which batch it is admitted; the CSR is
 * checked against the proven key and the policy; then the certificate, the device's state and
 * the audit entry are committed together. Enrolling again with the same key returns the
 * current certificate, or a new one once it is due for renewal: never a second device.
 */
export function createEnrolmentService(deps: EnrolmentServiceDeps) {
  const { audit, issuance } = deps;
  const now = deps.now ?? (() => new Date());

  /** The proven identity: device ID, key type, and (re-enrolment) the known device. */
  async function identify(ctx: DeviceRequestContext, c: EnrolCredential) {
    if (c.kind === 'device-certificate') {
      const found = await deps.lifecycle.findByCertificate(ctx.instanceId, c.issuerId, c.serial);
      if (!found)
        throw await audit.refuse(
          ctx,
          ACTION,
          'unauthorized',
          `device certificate ${c.serial} is unknown`,
        );
      ctx.deviceId = found.device.id;
      if (found.status !== 'valid' || Date.parse(found.notAfter) <= now().getTime()) {
        throw await audit.refuse(
          ctx,
          ACTION,
          found.device.state === 'revoked' ? 'revoked' : 'unauthorized',
          `device certificate ${c.serial} is ${found.status === 'valid' ? 'expired' : found.status}`,
        );
      }
      return { deviceId: found.device.id, keyType: (found.device.keyType ?? 'P-256') as KeyType };
    }
    const spki =
      c.kind === 'key' ? { ok: true as const, spki: c.spki } : spkiFromCertificate(c.certificate);
    if (!spki.ok)
      throw await audit.refuse(ctx, ACTION, 'unauthorized', `factory certificate: ${spki.detail}`);
    const id = deviceIdFromSpki(spki.spki, c.kind === 'key' ? c.key : undefined);
    if (!id.ok) {
      throw await audit.refuse(
        ctx,
        ACTION,
        'unauthorized',
        `the proven key is not in its canonical encoding (${id.reason}): ${id.detail}`,
      );
    }
    ctx.deviceId = id.deviceId;
    return { deviceId: id.deviceId, keyType: id.keyType };
  }

  async function enrol(ctx: DeviceRequestContext, input: EnrolInput): Promise<EnrolResult> {
    const { instanceId } = ctx;
    const c = input.credential;
    const { deviceId, keyType } = await identify(ctx, c);
    const via = c.via;
    const device = await deps.devices.find(instanceId, deviceId);
    if (device?.state === 'revoked')
      throw await audit.refuse(ctx, ACTION, 'revoked', 'device is revoked', { via });

    // A device certificate stands for an enrolment already made; other credentials are judged
    // by the enrolment methods (pre-registered ID, factory certificate with its rule).
    let decision: {
      method: string;
      batchId: string;
      register: boolean;
      details: Record<string, unknown>;
    };
    if (c.kind === 'device-certificate') {
      decision = {
        method: device!.enrolMethod ?? 're-enrolment',
        batchId: device!.batchId,
        register: false,
        details: {},
      };
    } else {
      const d = await decideEnrolment(deps.methods, {
        instanceId,
        deviceId,
        keyType,
        device,
        ...(c.kind === 'factory'
          ? { factory: { certificate: c.certificate, intermediates: c.intermediates } }
          : {}),
        ...(input.token !== undefined ? { token: input.token } : {}),
      });
      if (!d.ok)
        throw await audit.refuse(ctx, ACTION, 'unauthorized', d.reason, { via, ...d.details });
      decision = d;
    }

    const batch = await deps.batches.find(instanceId, decision.batchId);
    const policy = batch && (await deps.policies.find(instanceId, batch.policyId));
    if (!batch || !policy)
      throw await audit.refuse(
        ctx,
        ACTION,
        'unauthorized',
        `batch ${decision.batchId} or its policy is gone`,
      );
    if (!policy.deviceCertificate.keyTypes.includes(keyType)) {
      throw await audit.refuse(
        ctx,
        ACTION,
        'unauthorized',
        `identity key type ${keyType} is not accepted by policy "${policy.name}"`,
        { via },
      );
    }
    const csr = await checkDeviceCsr(
      input.csrDer,
      deviceId,
      policy,
      c.kind === 'key' && c.key ? { spki: c.spki, key: c.key } : undefined,
    );
    if (!csr.ok) {
      throw await audit.refuse(ctx, ACTION, csr.invalid ? 'invalid' : 'unauthorized', csr.reason, {
        via,
        method: decision.method,
      });
    }

    // Idempotent: the same key again before the renewal time gets the current certificate.
    const handBack = async (d: Device | undefined): Promise<EnrolResult | undefined> => {
      if (!d || !currentIsFresh(d, now())) return undefined;
      const current = await deps.deviceCerts.get(instanceId, d.currentCertId!);
      if (current.status !== 'valid' || !sameKey(current.der, csr.csr.key.spkiDer))
        return undefined;
      await audit.ok(ctx, ACTION, {
        via,
        method: decision.method,
        reissued: false,
        serial: current.serial,
      });
      return { ...(await answer(instanceId, deviceId, batch, policy, current)), issued: false };
    };
    const again = await handBack(device);
    if (again) return again;

    const cert = await issuance
      .issue({
        instanceId,
        deviceId,
        batchId: batch.id,
        policy,
        csrDer: input.csrDer,
        checkedCsr: csr.csr,
        operationalKey: csr.operationalKey,
        register: decision.register,
        expectCertId: device?.currentCertId ?? null,
        state: device?.currentCertId ? 'renewed' : 'enrolled',
        enrolMethod: decision.method,
        keyType,
        context: deviceAuditContext(ctx),
        audit: (tx, rec) =>
          audit.ok(
            ctx,
            ACTION,
            {
              via,
              method: decision.method,
              batchId: batch.id,
              serial: rec.serial,
              issuerId: rec.issuerId,
              notAfter: rec.notAfter,
              registered: decision.register,
              reissued: Boolean(device?.currentCertId),
              ...decision.details,
            },
            tx,
          ),
      })
      .catch(async (err: unknown) => {
        // The same device enrolling twice at once (a retry while the first request was still
        // running): one transaction wins, the other rolled back whole. If the winner gave this
        // very key a certificate, that is this request's answer too, as if it had come later.
        const won = await handBack(await deps.devices.find(instanceId, deviceId));
        if (won) return won;
        throw err;
      });
    if ('response' in cert) return cert;
    return { ...(await answer(instanceId, deviceId, batch, policy, cert)), issued: true };
  }

  async function answer(
    instanceId: string,
    deviceId: string,
    batch: BatchRow,
    policy: Policy,
    cert: Parameters<DeviceIssuance['certificateResponse']>[1],
  ) {
    const { certificate, chain, renewAt, root } = await issuance.certificateResponse(
      instanceId,
      cert,
    );
    const [hub, signing, database] = await Promise.all([
      deps.hooks.hubConnection(instanceId, policy, deviceId),
      issuance.signingBlock(instanceId, batch.signingKeyId),
      deps.hooks.databaseConnection(instanceId, policy),
    ]);
    const response: EnrolResponse = {
      instanceId,
      deviceId,
      batchId: batch.id,
      certificate,
      chain,
      trustAnchors: [root.toString('base64url')],
      renewAt,
      ...(hub ? { hub } : {}),
      ...(signing ? { signing } : {}),
      ...(database ? { database } : {}),
    };
    return { response, certificate: cert.der };
  }

  return { enrol };
}
export type EnrolmentService = ReturnType<typeof createEnrolmentService>;

/** Whether a certificate carries exactly this SubjectPublicKeyInfo. */
function sameKey(certDer: Buffer, spki: Buffer): boolean {
  const r = spkiFromCertificate(certDer);
  return r.ok && r.spki.equals(spki);
}
