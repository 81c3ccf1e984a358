import type { SessionResponse, StatusResponse } from '@trustlink/protocol';
import type { Device } from '../devices/device-repo.js';
import type { DeviceSessionService } from '../device-sessions/device-session-service.js';
import type { CheckInRecorder } from './check-in-recorder.js';
import type { DeviceAudit, DeviceRequestContext } from './device-audit.js';
import type { EnrolmentHooks } from './enrolment-hooks.js';
import { etagMatches, pollAfterSeconds, statusEtag } from './lifecycle-fns.js';

export interface CheckInServiceDeps {
  audit: DeviceAudit;
  hooks: Pick<EnrolmentHooks, 'updatePointer'>;
  recorder: Pick<CheckInRecorder, 'record'>;
  sessions: Pick<DeviceSessionService, 'open'>;
  now?: () => Date;
}

export type StatusAnswer =
  { notModified: true; etag: string } | { notModified: false; etag: string; body: StatusResponse };

/**
 * Check-ins and sessions. A check-in costs the one read that authenticated it (the device's
 * state and its waiting update in one statement): no signing, no write (last-seen times are
 * written in batches), and a 304 when nothing the device would be told has changed.
 */
export function createCheckInService(deps: CheckInServiceDeps) {
  const { audit } = deps;
  const now = deps.now ?? (() => new Date());

  async function status(
    ctx: DeviceRequestContext,
    device: Device,
    ifNoneMatch: string | undefined,
    firmwareDigest: string | undefined,
    /** The update the authenticating read found waiting (authenticate with `withUpdate`). */
    waitingUpdateId: string | null | undefined,
  ): Promise<StatusAnswer> {
    ctx.deviceId = device.id;
    if (
      !device.currentSerial ||
      !device.certNotAfter ||
      !device.renewAt ||
      device.state === 'registered'
    )
      throw await audit.refuse(ctx, 'device.check-in', 'unauthorized', 'device has not enrolled');
    const t = now();
    // The job marks expiry periodically; the answer is right even before it has run.
    const state =
      device.state === 'expired' || Date.parse(device.certNotAfter) <= t.getTime()
        ? 'expired'
        : (device.state as 'enrolled' | 'renewed');
    const update = deps.hooks.updatePointer(waitingUpdateId);
    deps.recorder.record(ctx.instanceId, device.id, firmwareDigest);
    const etag = statusEtag({
      state,
      serial: device.currentSerial,
      notAfter: device.certNotAfter,
      renewAt: device.renewAt,
      updateId: update?.id ?? null,
    });
    if (etagMatches(ifNoneMatch, etag)) return { notModified: true, etag };
    return {
      notModified: false,
      etag,
      body: {
        state,
        certificate: {
          serial: device.currentSerial,
          notAfter: device.certNotAfter,
          renewAt: device.renewAt,
        },
        ...(update ? { update } : {}),
        pollAfter: pollAfterSeconds(t, device.renewAt),
      },
    };
  }

  /** Opens a bearer session for a live device whose current certificate is valid. */
  async function openSession(ctx: DeviceRequestContext, device: Device): Promise<SessionResponse> {
    ctx.deviceId = device.id;
    const action = 'device.session.open';
    if (device.state === 'revoked')
      throw await audit.refuse(ctx, action, 'revoked', 'device is revoked');
    if (
      (device.state !== 'enrolled' && device.state !== 'renewed') ||
      !device.certNotAfter ||
      Date.parse(device.certNotAfter) <= now().getTime()
    ) {
      throw await audit.refuse(
        ctx,
        action,
        'unauthorized',
        `device is ${device.state}${device.certNotAfter ? ` (certificate valid until ${device.certNotAfter})` : ''}: sessions are for enrolled devices with a valid certificate`,
      );
    }
    const s = await deps.sessions.open(ctx.instanceId, device.id, device.certNotAfter);
    await audit.ok(ctx, action, { expiresAt: s.expiresAt });
    return s;
  }

  return { status, openSession };
}
export type CheckInService = ReturnType<typeof createCheckInService>;
