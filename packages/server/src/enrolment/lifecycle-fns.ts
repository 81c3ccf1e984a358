import { createHash } from 'node:crypto';

/** Share of a device certificate's lifetime after which it is due for renewal. */
export const DEVICE_RENEW_FRACTION = 2 / 3;
/** Longest a device is told to wait before its next check-in. */
export const MAX_POLL_SECONDS = 3600;
const MIN_POLL_SECONDS = 60;

/** When a certificate valid from `notBefore` to `notAfter` is due for renewal. */
export function renewAtOf(notBefore: string, notAfter: string): string {
  const nb = Date.parse(notBefore);
  return new Date(nb + (Date.parse(notAfter) - nb) * DEVICE_RENEW_FRACTION).toISOString();
}

/**
 * Seconds until the next check-in: an hour, or sooner when the renewal time comes first, so a
 * device hears of an auto-renewal soon after it happens; never below a minute.
 */
export function pollAfterSeconds(now: Date, renewAt: string | null): number {
  let s = MAX_POLL_SECONDS;
  if (renewAt) {
    const until = Math.ceil((Date.parse(renewAt) - now.getTime()) / 1000);
    if (until > 0) s = Math.min(s, until + MIN_POLL_SECONDS);
  }
  return Math.max(MIN_POLL_SECONDS, s);
}

/**
 * The ETag of a check-in answer. It covers everything the answer says (state, the current
 * certificate, the update offered), so a renewal, an expiry or a new update always changes it
 * and is never hidden behind a 304; a revoked device gets 403, never a 304.
 */
export function statusEtag(parts: {
  state: string;
  serial: string | null;
  notAfter: string | null;
  renewAt: string | null;
  updateId: string | null;
}): string {
  const h = createHash('sha256')
    .update(
      [
        parts.state,
        parts.serial ?? '',
        parts.notAfter ?? '',
        parts.renewAt ?? '',
        parts.updateId ?? '',
      ].join('\n'),
    )
    .digest('base64url')
    .slice(0, 22);
  return `"${h}"`;
}

/** True when an If-None-Match header names this ETag (a list, weak or strong, or `*`). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === etag || t === '*');
}
