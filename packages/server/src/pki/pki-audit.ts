import type { AuditService } from '../audit/audit-service.js';
import type { AuditActor, AuditContext, AuditResult } from '../audit/audit-types.js';
import type { Executor } from '../db/database.js';

/** One PKI action for the audit log. */
export interface PkiAuditEntry {
  instanceId: string;
  /** Who acted and from where; absent for the server's own background jobs. */
  context?: AuditContext;
  /** e.g. pki.issuing-ca.create, pki.device-certificate.revoke. */
  action: string;
  target?: { type: string; id: string; name?: string };
  result?: AuditResult;
  details?: Record<string, unknown>;
}

/**
 * Records a PKI action; with `tx`, in the same transaction as the change it describes, so
 * the log and the data never disagree.
 */
export type PkiAudit = (tx: Executor | undefined, entry: PkiAuditEntry) => Promise<void>;

/** The actor of the PKI's background jobs (renewal, CRL refresh). */
export const PKI_SYSTEM_ACTOR: AuditActor = { type: 'system', name: 'pki' };

/** A PkiAudit that writes to the instance's tamper-evident audit log. */
export function pkiAuditTo(audit: Pick<AuditService, 'record'>): PkiAudit {
  return async (tx, e) => {
    await audit.record(
      {
        instanceId: e.instanceId,
        actor: e.context?.actor ?? PKI_SYSTEM_ACTOR,
        sourceAddress: e.context?.sourceAddress ?? null,
        action: e.action,
        target: e.target ?? null,
        result: e.result ?? 'ok',
        details: e.details,
      },
      tx,
    );
  };
}
