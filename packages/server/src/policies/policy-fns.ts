import { compareDurations, formatDuration, type Duration } from '../lib/duration.js';
import type { PolicyInput } from './policy-types.js';

export type Check = { ok: true } | { ok: false; field: string; reason: string };

const MAX_JWT: Duration = { value: 24, unit: 'hours' };
/** The PKI makes no issuing CA that lives less than an hour. */
const MIN_ISSUING: Duration = { value: 1, unit: 'hours' };

/**
 * The rules a policy must satisfy beyond its shape: a device certificate never outlives its
 * issuing CA; each connection type names its target and only its own settings.
 */
export function checkPolicy(p: PolicyInput, now: Date): Check {
  if (compareDurations(p.issuingCertificate.lifetime, MIN_ISSUING, now) < 0) {
    return {
      ok: false,
      field: 'issuingCertificate.lifetime',
      reason: 'the issuing certificate lifetime must be at least 1 hour',
    };
  }
  if (compareDurations(p.deviceCertificate.lifetime, p.issuingCertificate.lifetime, now) > 0) {
    return {
      ok: false,
      field: 'deviceCertificate.lifetime',
      reason: `device certificate lifetime (${formatDuration(p.deviceCertificate.lifetime)}) must not exceed the issuing certificate lifetime (${formatDuration(p.issuingCertificate.lifetime)})`,
    };
  }
  if (p.connectionType === 'iot-hub') {
    if (p.databaseConnectionId)
      return {
        ok: false,
        field: 'databaseConnectionId',
        reason: 'an IoT hub policy has no database direct connection',
      };
    if (p.jwtLifetime)
      return {
        ok: false,
        field: 'jwtLifetime',
        reason: 'a JWT lifetime applies to database direct policies only',
      };
  } else {
    if (p.hubId)
      return { ok: false, field: 'hubId', reason: 'a database direct policy has no IoT hub' };
    if (!p.databaseConnectionId)
      return {
        ok: false,
        field: 'databaseConnectionId',
        reason: 'a database direct policy needs a database direct connection',
      };
    if (!p.jwtLifetime)
      return {
        ok: false,
        field: 'jwtLifetime',
        reason: 'a database direct policy needs a JWT lifetime',
      };
    if (compareDurations(p.jwtLifetime, MAX_JWT, now) > 0)
      return { ok: false, field: 'jwtLifetime', reason: 'JWT lifetime must be at most 24 hours' };
  }
  return { ok: true };
}
