import type { Executor } from '../db/database.js';
import type { AuditService } from './audit-service.js';
import type { AuditContext, AuditTarget } from './audit-types.js';

/**
 * Records a successful change by the caller in `ctx`, inside the transaction that made it, so
 * the change and its audit entry commit together or not at all.
 */
export function recordChange(
  audit: AuditService,
  tx: Executor,
  e: {
    instanceId: string;
    ctx: AuditContext;
    action: string;
    target: AuditTarget;
    details?: Record<string, unknown>;
  },
): Promise<{ seq: number }> {
  return audit.record(
    {
      instanceId: e.instanceId,
      actor: e.ctx.actor,
      sourceAddress: e.ctx.sourceAddress ?? null,
      action: e.action,
      target: e.target,
      result: 'ok',
      details: e.details,
    },
    tx,
  );
}
