import type { CertificateResponse, SigningBlock } from '@trustlink/protocol';
import type { Db, Executor } from '../db/database.js';
import type { Device, DeviceRepo } from '../devices/device-repo.js';
import type { DeviceLifecycleRepo } from '../devices/device-lifecycle-repo.js';
import type { DeviceEvents } from '../devices/device-events.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import { addDuration } from '../lib/duration.js';
import { ConflictError, ServiceUnavailableError } from '../lib/errors.js';
import type { Policy } from '../policies/policy-types.js';
import type { CaRepo } from '../pki/ca-repo.js';
import type { ParsedCsr } from '../pki/csr-fns.js';
import type { DeviceCertificateRecord } from '../pki/device-cert-repo.js';
import type { Pki } from '../pki/pki-module.js';
import type { AuditContext } from '../audit/audit-types.js';
import { renewAtOf } from './lifecycle-fns.js';

export interface DeviceIssuanceDeps {
  db: Db;
  pki: Pick<Pki, 'engine' | 'deviceCerts'>;
  caRepo: Pick<CaRepo, 'find'>;
  keystore: Pick<KeyStore, 'publicKey'>;
  devices: Pick<DeviceRepo, 'insertRegistered'>;
  lifecycle: Pick<DeviceLifecycleRepo, 'setCertificate'>;
  events: Pick<DeviceEvents, 'emit'>;
  issuingCaFor(instanceId: string, policy: Policy): Promise<string>;
  /**
   * Called inside the issuing transaction, after the certificate and the state change are
   * written: other domains add their outbox intents here so they exist exactly when it does.
   */
  inTransaction?(tx: Executor, issued: CertificateIssued): Promise<void>;
  now?: () => Date;
}

/** A certificate just issued to a device, as the in-transaction hook sees it. */
export interface CertificateIssued {
  instanceId: string;
  deviceId: string;
  policy: Policy;
  state: 'enrolled' | 'renewed';
  certificateId: string;
}

/** One certificate to issue for a device and the state change that goes with it. */
export interface IssueRequest {
  instanceId: string;
  deviceId: string;
  batchId: string;
  policy: Policy;
  csrDer: Buffer;
  /** `csrDer` already parsed and its signature verified (checkDeviceCsr): not done again. */
  checkedCsr?: ParsedCsr;
  /** The CSR's key is an operational key, not the identity key (the policy allows it). */
  operationalKey: boolean;
  /** The device ID is not registered yet (a token enrolment): register it in the same commit. */
  register: boolean;
  /** The current certificate the caller saw; the change fails if another request replaced it. */
  expectCertId: string | null;
  state: 'enrolled' | 'renewed';
  enrolMethod?: string;
  keyType?: string;
  /** Who the PKI's own audit entry names. */
  context: AuditContext;
  /** The domain's audit entry, written last in the same transaction. */
  audit(tx: Executor, cert: DeviceCertificateRecord): Promise<void>;
}

const ALG_OF_KEY: Record<string, SigningBlock['alg'] | undefined> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'RSA-3072': 'PS256',
};

/**
 * Issues device certificates the way enrolment and renewal need them: the certificate, the
 * device's state and the audit entries are written in one transaction, committed before the
 * device gets an answer, and the lifecycle event is published only after the commit.
 */
export function createDeviceIssuance(deps: DeviceIssuanceDeps) {
  const { db, pki, caRepo } = deps;
  const now = deps.now ?? (() => new Date());
  const chains = new Map<string, { chain: Buffer[]; root: Buffer }>();

  /** The issuing CAs above a certificate (root excluded) and the root it ends at. */
  async function chainOf(instanceId: string, issuerId: string) {
    const k = `${instanceId}/${issuerId}`;
    const hit = chains.get(k);
    if (hit) return hit;
    const chain: Buffer[] = [];
    let id: string | null = issuerId;
    for (let i = 0; id && i < 8; i++) {
      const ca = await caRepo.find(instanceId, id);
      if (!ca) break;
      if (ca.kind === 'root') {
        const found = { chain, root: ca.der };
        chains.set(k, found);
        return found;
      }
      chain.push(ca.der);
      id = ca.issuerId;
    }
    throw new Error(`issuing CA ${issuerId} does not lead to the instance root`);
  }

  async function issue(r: IssueRequest): Promise<DeviceCertificateRecord> {
    const t = now();
    const issuingCaId = await deps.issuingCaFor(r.instanceId, r.policy);
    // Prepared before the transaction and handed in: on SQLite, a read from inside the engine
    // while our transaction holds the one connection would wait forever.
    const issuer = await pki.engine.issuer(r.instanceId, issuingCaId);
    if (Date.parse(issuer.ca.notAfter) <= t.getTime())
      throw new ServiceUnavailableError(
        `issuing CA ${issuer.ca.id} of policy "${r.policy.name}" has expired`,
      );
    const lifetimeSeconds = Math.round(
      (addDuration(t, r.policy.deviceCertificate.lifetime).getTime() - t.getTime()) / 1000,
    );
    const cert = await db.kysely.transaction().execute(async (tx) => {
      if (r.register)
        await deps.devices.insertRegistered(
          r.instanceId,
          r.batchId,
          [r.deviceId],
          t.toISOString(),
          tx,
        );
      const rec = await pki.deviceCerts.issueDeviceCertificate(
        {
          instanceId: r.instanceId,
          issuingCaId,
          csrDer: r.csrDer,
          ...(r.checkedCsr ? { checkedCsr: r.checkedCsr } : {}),
          deviceId: r.deviceId,
          operationalKey: r.operationalKey,
          lifetimeSeconds,
          acceptedKeyTypes: r.policy.deviceCertificate.keyTypes,
          prepared: issuer,
          context: r.context,
        },
        tx,
      );
      const changed = await deps.lifecycle.setCertificate(
        r.instanceId,
        r.deviceId,
        {
          state: r.state,
          at: t.toISOString(),
          cert: {
            id: rec.id,
            serial: rec.serial,
            notAfter: rec.notAfter,
            renewAt: renewAtOf(rec.notBefore, rec.notAfter),
            csr: r.csrDer,
          },
          expectCertId: r.expectCertId,
          enrolMethod: r.enrolMethod,
          keyType: r.keyType,
        },
        tx,
      );
      if (!changed) {
        throw new ConflictError(
          'the device changed while this request was handled (another enrolment, renewal or a revocation); try again',
          'concurrent-change',
        );
      }
      await r.audit(tx, rec);
      await deps.inTransaction?.(tx, {
        instanceId: r.instanceId,
        deviceId: r.deviceId,
        policy: r.policy,
        state: r.state,
        certificateId: rec.id,
      });
      return rec;
    });
    deps.events.emit({
      type: 'certificate-issued',
      instanceId: r.instanceId,
      deviceId: r.deviceId,
      issuerId: cert.issuerId,
      serial: cert.serial,
    });
    if (r.state === 'enrolled')
      deps.events.emit({
        type: 'enrolled',
        instanceId: r.instanceId,
        deviceId: r.deviceId,
        batchId: r.batchId,
      });
    else deps.events.emit({ type: 'renewed', instanceId: r.instanceId, deviceId: r.deviceId });
    return cert;
  }

  /** A certificate as devices receive it: DER, the CAs above it, expiry and renewal time. */
  async function certificateResponse(
    instanceId: string,
    cert: Pick<DeviceCertificateRecord, 'der' | 'issuerId' | 'notBefore' | 'notAfter'>,
  ): Promise<CertificateResponse & { root: Buffer }> {
    const { chain, root } = await chainOf(instanceId, cert.issuerId);
    return {
      certificate: cert.der.toString('base64url'),
      chain: chain.map((c) => c.toString('base64url')),
      notAfter: cert.notAfter,
      renewAt: renewAtOf(cert.notBefore, cert.notAfter),
      root,
    };
  }

  /** The public half of a batch's signing key, for manifests. */
  async function signingBlock(
    instanceId: string,
    signingKeyId: string | null,
  ): Promise<SigningBlock | undefined> {
    if (!signingKeyId) return undefined;
    const key = await deps.keystore.publicKey(instanceId, signingKeyId).catch(() => undefined);
    const alg = key ? ALG_OF_KEY[key.algorithm] : undefined;
    if (!key || !alg) return undefined;
    return { keyId: key.id, alg, publicKey: key.publicKeyDer.toString('base64url') };
  }

  return { issue, certificateResponse, signingBlock, chainOf };
}
export type DeviceIssuance = ReturnType<typeof createDeviceIssuance>;

/** Whether a live device's current certificate is still good to hand out again. */
export function currentIsFresh(device: Device, t: Date): boolean {
  return (
    (device.state === 'enrolled' || device.state === 'renewed') &&
    device.currentCertId !== null &&
    device.renewAt !== null &&
    t.getTime() < Date.parse(device.renewAt)
  );
}
