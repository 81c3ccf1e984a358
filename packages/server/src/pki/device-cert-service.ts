import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Executor } from '../db/database.js';
import { isUniqueViolation } from '../db/db-errors.js';
import type { Database } from '../db/schema.js';
import type { AuditContext } from '../audit/audit-types.js';
import { AppError, ConflictError, NotFoundError } from '../lib/errors.js';
import type { CaRepo } from './ca-repo.js';
import { toPem } from './certificate-builder.js';
import type { RevocationReason } from './crl-fns.js';
import type { CrlService } from './crl-service.js';
import type {
  DeviceCertFilter,
  DeviceCertificateRecord,
  DeviceCertRepo,
} from './device-cert-repo.js';
import type { IssuanceEngine, IssueInput } from './issuance-engine.js';
import type { PkiAudit } from './pki-audit.js';
import type { RevocationRepo } from './revocation-repo.js';

export interface DeviceCertServiceDeps {
  db: Kysely<Database>;
  engine: IssuanceEngine;
  certs: DeviceCertRepo;
  revocations: RevocationRepo;
  caRepo: CaRepo;
  crl: Pick<CrlService, 'poke'>;
  audit: PkiAudit;
  now?: () => Date;
}

/** Runs `fn` in the caller's transaction, or in a new one. */
function within<T>(
  db: Kysely<Database>,
  tx: Executor | undefined,
  fn: (tx: Executor) => Promise<T>,
) {
  return tx ? fn(tx) : db.transaction().execute(fn);
}

/**
 * Device certificates: issue (engine + store + audit, in one transaction), list, download and
 * revoke. A revocation marks the issuer's CRL stale and drops cached OCSP answers in its own
 * transaction, then asks for a CRL rebuild.
 */
export function createDeviceCertService(deps: DeviceCertServiceDeps) {
  const { db, engine, certs, revocations, caRepo, crl, audit } = deps;
  const now = deps.now ?? (() => new Date());

  /**
   * Issues a device certificate from a CSR under the policy parameters given, and stores it.
   * With `tx`, everything is written in the caller's transaction (enrolment commits the
   * certificate, the device state and the audit entry together).
   */
  async function issueDeviceCertificate(
    input: IssueInput & { context?: AuditContext },
    tx?: Executor,
  ): Promise<DeviceCertificateRecord> {
    let built;
    try {
      built = await engine.build(input);
    } catch (err) {
      // A refused request is a PKI action too; the log keeps the reason the caller was given.
      if (err instanceof AppError) {
        await audit(undefined, {
          instanceId: input.instanceId,
          context: input.context,
          action: 'pki.device-certificate.issue',
          result: 'failed',
          target: { type: 'device', id: input.deviceId },
          details: { issuingCaId: input.issuingCaId, reason: err.message, type: err.type },
        }).catch(() => undefined);
      }
      throw err;
    }
    const rec: DeviceCertificateRecord = {
      instanceId: input.instanceId,
      id: randomUUID(),
      issuerId: built.issuerId,
      serial: built.serial,
      deviceId: built.deviceId,
      notBefore: built.notBefore.toISOString(),
      notAfter: built.notAfter.toISOString(),
      status: 'valid',
      revocationReason: null,
      revokedAt: null,
      der: built.der,
      createdAt: now().toISOString(),
    };
    try {
      await within(db, tx, async (t) => {
        await certs.insert(rec, t);
        await audit(t, {
          instanceId: input.instanceId,
          context: input.context,
          action: 'pki.device-certificate.issue',
          target: { type: 'device-certificate', id: rec.id, name: rec.deviceId },
          details: {
            deviceId: rec.deviceId,
            issuerId: rec.issuerId,
            serial: rec.serial,
            notAfter: rec.notAfter,
          },
        });
      });
    } catch (err) {
      // 128 random bits make this practically impossible; the constraint is what guarantees it.
      if (isUniqueViolation(err)) {
        throw new ConflictError('serial number collision; issue again', 'serial-collision');
      }
      throw err;
    }
    return rec;
  }

  async function get(instanceId: string, id: string): Promise<DeviceCertificateRecord> {
    const rec = await certs.find(instanceId, id);
    if (!rec) throw new NotFoundError(`device certificate ${id} not found`);
    return rec;
  }

  /** Revokes a valid certificate with an RFC 5280 reason. */
  async function revoke(
    instanceId: string,
    id: string,
    reason: RevocationReason,
    context?: AuditContext,
    tx?: Executor,
  ): Promise<DeviceCertificateRecord> {
    const at = new Date(Math.floor(now().getTime() / 1000) * 1000).toISOString();
    await within(db, tx, async (t) => {
      const rec = await certs.find(instanceId, id, t);
      if (!rec) throw new NotFoundError(`device certificate ${id} not found`);
      if (!(await certs.revoke(instanceId, id, reason, at, t))) {
        throw new ConflictError(`device certificate ${id} is already revoked`, 'already-revoked');
      }
      await revocations.bumpRevision(instanceId, rec.issuerId, t);
      await revocations.dropOcsp(instanceId, rec.issuerId, rec.serial, t);
      await audit(t, {
        instanceId,
        context,
        action: 'pki.device-certificate.revoke',
        target: { type: 'device-certificate', id, name: rec.deviceId },
        details: { deviceId: rec.deviceId, issuerId: rec.issuerId, serial: rec.serial, reason },
      });
    });
    crl.poke();
    return get(instanceId, id);
  }

  /** PEM of a device certificate, followed by its issuing CA and the root when `chain`. */
  async function pem(instanceId: string, id: string, chain: boolean): Promise<string> {
    const rec = await get(instanceId, id);
    let out = toPem(rec.der);
    let issuerId: string | null = chain ? rec.issuerId : null;
    while (issuerId) {
      const ca = await caRepo.find(instanceId, issuerId);
      if (!ca) break;
      out += toPem(ca.der);
      issuerId = ca.issuerId;
    }
    return out;
  }

  return {
    issueDeviceCertificate,
    revoke,
    get,
    pem,
    list: (instanceId: string, filter: DeviceCertFilter) => certs.list(instanceId, filter),
  };
}
export type DeviceCertService = ReturnType<typeof createDeviceCertService>;
