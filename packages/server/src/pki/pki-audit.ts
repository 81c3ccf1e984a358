import type { Executor } from '../db/database.js';

/** One PKI action for the audit log. */
export interface PkiAuditEntry {
  instanceId: string;
  /** Who acted: a user or token id; absent for the server's own background jobs. */
  actor?: string;
  /** e.g. pki.issuing-ca.created, pki.device-certificate.revoked. */
  action: string;
  target?: string;
  detail?: Record<string, unknown>;
}

/**
 * Records a PKI action in the same transaction as the change it describes, so the log and
 * the data never disagree.
 */
export type PkiAudit = (tx: Executor, entry: PkiAuditEntry) => Promise<void>;
