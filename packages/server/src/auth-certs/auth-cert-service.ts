import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import { recordChange } from '../audit/record-change.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/db-errors.js';
import { BadRequestError, ConflictError, NotFoundError } from '../lib/errors.js';
import { checkCaCertificatePem, type AuthCertRule } from './auth-cert-fns.js';
import type { AuthCert, AuthCertRepo } from './auth-cert-repo.js';

export interface AuthCertServiceDeps {
  repo: AuthCertRepo;
  batchExists(instanceId: string, batchId: string): Promise<boolean>;
  db: Db;
  audit: AuditService;
  now?: () => Date;
}

export interface ImportAuthCertInput {
  pem: string;
  name?: string;
  batchId: string;
  rule?: AuthCertRule;
}

/**
 * Factory CAs that vouch for devices' pre-provisioned certificates. Each is bound to one batch
 * and carries a rule, because vendor CAs are shared between the vendor's customers: a
 * certificate from it alone must never enrol a device into this instance.
 */
export function createAuthCertService(deps: AuthCertServiceDeps) {
  const now = deps.now ?? (() => new Date());
  return {
    list: (instanceId: string) => deps.repo.list(instanceId),
    async get(instanceId: string, id: string): Promise<AuthCert> {
      const c = await deps.repo.find(instanceId, id);
      if (!c) throw new NotFoundError(`auth cert ${id} not found`);
      return c;
    },
    async import(
      instanceId: string,
      input: ImportAuthCertInput,
      ctx: AuditContext,
    ): Promise<AuthCert> {
      if (!input.rule) {
        throw new BadRequestError(
          'choose a rule: must-pre-register (device IDs must be in the batch) or requires-token (devices present a token of the batch)',
          { errors: [{ path: 'rule', message: 'required' }] },
          'validation-failed',
        );
      }
      const check = checkCaCertificatePem(input.pem, now());
      if (!check.ok)
        throw new BadRequestError(
          check.reason,
          { errors: [{ path: 'pem', message: check.reason }] },
          'validation-failed',
        );
      if (!(await deps.batchExists(instanceId, input.batchId))) {
        throw new BadRequestError(
          `batch ${input.batchId} does not exist`,
          { errors: [{ path: 'batchId', message: 'unknown batch' }] },
          'validation-failed',
        );
      }
      const existing = await deps.repo.findByFingerprint(instanceId, check.cert.fingerprint);
      if (existing)
        throw new ConflictError(
          `this CA certificate is already imported as "${existing.name}"`,
          'already-imported',
        );
      const rec: AuthCert = {
        id: randomUUID(),
        name: input.name?.trim() || check.cert.commonName || check.cert.subject,
        batchId: input.batchId,
        rule: input.rule,
        subject: check.cert.subject,
        fingerprint: check.cert.fingerprint,
        notBefore: check.cert.notBefore,
        notAfter: check.cert.notAfter,
        der: check.cert.der,
        createdAt: now().toISOString(),
      };
      try {
        await deps.db.kysely.transaction().execute(async (tx) => {
          await deps.repo.insert(instanceId, rec, tx);
          await recordChange(deps.audit, tx, {
            instanceId,
            ctx,
            action: 'auth-cert.import',
            target: { type: 'auth-cert', id: rec.id, name: rec.name },
            details: {
              subject: rec.subject,
              fingerprint: rec.fingerprint,
              batchId: rec.batchId,
              rule: rec.rule,
            },
          });
        });
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ConflictError('this CA certificate is already imported', 'already-imported');
        throw err;
      }
      return rec;
    },
    async remove(instanceId: string, id: string, ctx: AuditContext): Promise<AuthCert> {
      const c = await this.get(instanceId, id);
      await deps.db.kysely.transaction().execute(async (tx) => {
        await deps.repo.delete(instanceId, id, tx);
        await recordChange(deps.audit, tx, {
          instanceId,
          ctx,
          action: 'auth-cert.delete',
          target: { type: 'auth-cert', id, name: c.name },
        });
      });
      return c;
    },
  };
}
export type AuthCertService = ReturnType<typeof createAuthCertService>;
