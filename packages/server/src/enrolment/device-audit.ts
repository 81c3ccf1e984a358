import type { AuditService } from '../audit/audit-service.js';
import type { AuditActor, AuditContext } from '../audit/audit-types.js';
import type { Executor } from '../db/database.js';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  UnauthorizedError,
  type AppError,
} from '../lib/errors.js';

/** Who and where a device request comes from, for its audit entries. */
export interface DeviceRequestContext {
  instanceId: string;
  /** Known once derived from a proven key or a presented certificate. */
  deviceId?: string;
  sourceAddress: string | null;
  /** device-api or est. */
  channel: 'device-api' | 'est';
}

/**
 * What a refused device is told: 401 (nothing more), 403 device-revoked (stop), 409
 * challenge-replayed (fetch a new challenge) or 400 for a malformed request of its own.
 */
export type RefusalKind = 'unauthorized' | 'revoked' | 'replay' | 'invalid';

/** Actions that devices repeat all day (check-ins): their refusals are recorded once a minute. */
const THROTTLED = new Set([
  'device.check-in',
  'device.certificate.fetch',
  // Applications retry writes with a stale token; one entry per reason a minute is enough.
  'device.database-write',
]);
const THROTTLE_MS = 60_000;
const THROTTLE_MAX_KEYS = 10_000;

export function deviceActor(deviceId: string | undefined): AuditActor {
  return { type: 'device', id: deviceId ?? null, name: deviceId ?? '(unidentified device)' };
}

export function deviceAuditContext(ctx: DeviceRequestContext): AuditContext {
  return { actor: deviceActor(ctx.deviceId), sourceAddress: ctx.sourceAddress };
}

function errorFor(kind: RefusalKind, message: string): AppError {
  switch (kind) {
    case 'revoked':
      return new ForbiddenError('this device is revoked', 'device-revoked');
    case 'replay':
      return new ConflictError(
        'the challenge was used before or has expired; fetch a new one',
        'challenge-replayed',
      );
    case 'invalid':
      return new BadRequestError(message, undefined, 'validation-failed');
    default:
      return new UnauthorizedError();
  }
}

/**
 * The audit trail of device requests. A refusal is recorded with its precise reason and the
 * device is given the bare error of its kind: the log keeps why, the device learns only what
 * it can act on.
 */
export function createDeviceAudit(audit: Pick<AuditService, 'record'>, now = () => new Date()) {
  const recent = new Map<string, number>();

  function throttled(ctx: DeviceRequestContext, action: string, reason: string): boolean {
    if (!THROTTLED.has(action)) return false;
    const k = `${ctx.instanceId}|${ctx.deviceId ?? ctx.sourceAddress}|${action}|${reason}`;
    const t = now().getTime();
    const last = recent.get(k);
    if (last !== undefined && t - last < THROTTLE_MS) return true;
    if (recent.size >= THROTTLE_MAX_KEYS) recent.clear();
    recent.set(k, t);
    return false;
  }

  return {
    /** Records a refusal and returns the error to throw. */
    async refuse(
      ctx: DeviceRequestContext,
      action: string,
      kind: RefusalKind,
      reason: string,
      details: Record<string, unknown> = {},
      /** For a 400: what the device is told (its own request's fault). */
      publicMessage = reason,
    ): Promise<AppError> {
      if (!throttled(ctx, action, reason)) {
        await audit.record({
          instanceId: ctx.instanceId,
          actor: deviceActor(ctx.deviceId),
          sourceAddress: ctx.sourceAddress,
          action,
          target: ctx.deviceId ? { type: 'device', id: ctx.deviceId } : null,
          result: 'denied',
          details: { reason, channel: ctx.channel, ...details },
        });
      }
      return errorFor(kind, publicMessage);
    },
    /** Records a device action that succeeded, inside its transaction when it changed state. */
    async ok(
      ctx: DeviceRequestContext,
      action: string,
      details: Record<string, unknown>,
      tx?: Executor,
    ): Promise<void> {
      await audit.record(
        {
          instanceId: ctx.instanceId,
          actor: deviceActor(ctx.deviceId),
          sourceAddress: ctx.sourceAddress,
          action,
          target: ctx.deviceId ? { type: 'device', id: ctx.deviceId } : null,
          result: 'ok',
          details: { channel: ctx.channel, ...details },
        },
        tx,
      );
    },
  };
}
export type DeviceAudit = ReturnType<typeof createDeviceAudit>;
