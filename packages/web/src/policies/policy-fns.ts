import {
  compareDurations,
  durationCountError,
  formatDuration,
  type Duration,
  type DurationUnit,
} from './duration-fns';
import type {
  ConnectionType,
  DeviceKeyType,
  IssuingKeyType,
  Policy,
  PolicyInput,
} from './policy-types';

/** A duration as a form holds it: the count is '' while the field is empty. */
export interface DurationField {
  value: number | string;
  unit: DurationUnit;
}

/** The policy form's values: the API's shape, with durations as typed. */
export interface PolicyFormValues {
  name: string;
  connectionType: ConnectionType;
  hubId: string | null;
  databaseConnectionId: string | null;
  deviceCertificate: {
    lifetime: DurationField;
    keyTypes: DeviceKeyType[];
    operationalKeyAllowed: boolean;
    autoRenew: boolean;
    renewGracePeriod: DurationField;
  };
  issuingCertificate: { lifetime: DurationField; keyType: IssuingKeyType; autoRenew: boolean };
  jwtLifetime: DurationField;
}

/** The server's name rule for policies and batches. */
export const NAME_PATTERN = /^[\p{L}\p{N} ._-]+$/u;

/** Why a policy or batch name is refused, or null; the same rule as the server's. */
export function nameError(raw: string): string | null {
  const v = raw.trim();
  if (!v) return 'Enter a name';
  if (v.length > 64) return 'Use at most 64 characters';
  if (!NAME_PATTERN.test(v)) return 'Use letters, digits, spaces, dots, underscores and hyphens';
  return null;
}

/** The values of a new policy: the server's defaults, with a year under five. */
export function newPolicyValues(): PolicyFormValues {
  return {
    name: '',
    connectionType: 'iot-hub',
    hubId: null,
    databaseConnectionId: null,
    deviceCertificate: {
      lifetime: { value: 1, unit: 'years' },
      keyTypes: ['P-256'],
      operationalKeyAllowed: false,
      autoRenew: true,
      renewGracePeriod: { value: 7, unit: 'days' },
    },
    issuingCertificate: {
      lifetime: { value: 5, unit: 'years' },
      keyType: 'P-256',
      autoRenew: true,
    },
    jwtLifetime: { value: 60, unit: 'minutes' },
  };
}

/** A stored policy as form values, for editing. */
export function policyValues(p: Policy): PolicyFormValues {
  return {
    name: p.name,
    connectionType: p.connectionType,
    hubId: p.hubId,
    databaseConnectionId: p.databaseConnectionId,
    deviceCertificate: { ...p.deviceCertificate, keyTypes: [...p.deviceCertificate.keyTypes] },
    issuingCertificate: { ...p.issuingCertificate },
    jwtLifetime: p.jwtLifetime ?? newPolicyValues().jwtLifetime,
  };
}

const toDuration = (f: DurationField): Duration => ({ value: Number(f.value), unit: f.unit });

/**
 * The API body for the form's values. Settings of the other connection type are left out
 * (the server refuses them), so switching types back and forth in the form is harmless.
 */
export function policyInputOf(v: PolicyFormValues): PolicyInput {
  const direct = v.connectionType === 'database-direct';
  return {
    name: v.name.trim(),
    connectionType: v.connectionType,
    hubId: direct ? null : v.hubId || null,
    databaseConnectionId: direct ? v.databaseConnectionId || null : null,
    deviceCertificate: {
      lifetime: toDuration(v.deviceCertificate.lifetime),
      keyTypes: v.deviceCertificate.keyTypes,
      operationalKeyAllowed: v.deviceCertificate.operationalKeyAllowed,
      autoRenew: v.deviceCertificate.autoRenew,
      renewGracePeriod: toDuration(v.deviceCertificate.renewGracePeriod),
    },
    issuingCertificate: {
      lifetime: toDuration(v.issuingCertificate.lifetime),
      keyType: v.issuingCertificate.keyType,
      autoRenew: v.issuingCertificate.autoRenew,
    },
    jwtLifetime: direct ? toDuration(v.jwtLifetime) : null,
  };
}

const MAX_JWT: Duration = { value: 24, unit: 'hours' };

/**
 * What the server would refuse in these values, by form field (the server's checks in
 * policy-types.ts and policy-fns.ts): name, counts, at least one key type, a device
 * certificate that does not outlive its issuing CA, and for database direct a connection and
 * a JWT lifetime of at most a day. Empty when the values may be sent.
 */
export function policyErrors(v: PolicyFormValues, now: Date): Record<string, string> {
  const errors: Record<string, string> = {};
  const name = nameError(v.name);
  if (name) errors.name = name;
  const counts: [string, DurationField][] = [
    ['deviceCertificate.lifetime', v.deviceCertificate.lifetime],
    ['deviceCertificate.renewGracePeriod', v.deviceCertificate.renewGracePeriod],
    ['issuingCertificate.lifetime', v.issuingCertificate.lifetime],
  ];
  if (v.connectionType === 'database-direct') counts.push(['jwtLifetime', v.jwtLifetime]);
  for (const [field, d] of counts) {
    const e = durationCountError(d.value);
    if (e) errors[field] = e;
  }
  if (v.deviceCertificate.keyTypes.length === 0)
    errors['deviceCertificate.keyTypes'] = 'Accept at least one key type';
  const device = v.deviceCertificate.lifetime;
  const issuing = v.issuingCertificate.lifetime;
  if (
    !errors['deviceCertificate.lifetime'] &&
    !errors['issuingCertificate.lifetime'] &&
    compareDurations(toDuration(device), toDuration(issuing), now) > 0
  ) {
    errors['deviceCertificate.lifetime'] =
      `The device certificate lifetime (${formatDuration(toDuration(device))}) must not exceed the issuing certificate lifetime (${formatDuration(toDuration(issuing))})`;
  }
  if (v.connectionType === 'database-direct') {
    if (!v.databaseConnectionId)
      errors.databaseConnectionId = 'A database direct policy needs a database direct connection';
    if (!errors.jwtLifetime && compareDurations(toDuration(v.jwtLifetime), MAX_JWT, now) > 0)
      errors.jwtLifetime = 'The JWT lifetime must be at most 24 hours';
  }
  return errors;
}

/**
 * The error of a duration field wherever the server put it: on the duration itself (rules
 * across fields) or on its count or unit (schema checks).
 */
export function durationFieldError(
  errors: Record<string, unknown>,
  path: string,
): string | undefined {
  for (const key of [path, `${path}.value`, `${path}.unit`]) {
    const e = errors[key];
    if (typeof e === 'string' && e) return e;
  }
  return undefined;
}
