import { localInputToIso } from '../logs/audit-fns';
import { toLocalInput } from '../hsm/hsm-fns';
import type { CredentialStatus } from './manufacturing-types';

/** The largest count one credential may carry (the server's MAX_DEVICES_LIMIT). */
export const MAX_DEVICES_LIMIT = 1_000_000;

export interface CredentialFormValues {
  name: string;
  batchId: string | null;
  /** An <input type="datetime-local"> value, in the browser's zone. */
  notAfter: string;
  /** A NumberInput's value: a number, or '' while the box is empty. */
  maxDevices: number | string;
}

/** A new credential's defaults: one shift (12 hours from now) and a modest count. */
export function newCredentialValues(now: Date): CredentialFormValues {
  return {
    name: '',
    batchId: null,
    notAfter: toLocalInput(new Date(now.getTime() + 12 * 3_600_000)),
    maxDevices: 1000,
  };
}

const NAME = /^[\p{L}\p{N} ._-]+$/u;

/** What the server would refuse (createCredentialSchema and the service's checks). */
export function credentialErrors(v: CredentialFormValues, now: Date): Record<string, string> {
  const errors: Record<string, string> = {};
  const name = v.name.trim();
  if (!name) errors.name = 'Enter a name';
  else if (name.length > 64) errors.name = 'Use at most 64 characters';
  else if (!NAME.test(name))
    errors.name = 'Use letters, digits, spaces, dots, underscores and hyphens';
  if (!v.batchId) errors.batchId = 'Choose the batch the station adds devices to';
  const na = v.notAfter ? new Date(v.notAfter).getTime() : NaN;
  if (Number.isNaN(na)) errors.notAfter = 'Enter a date and time';
  else if (na <= now.getTime())
    errors.notAfter = 'Is in the past: the credential could never be used';
  const max = typeof v.maxDevices === 'number' ? v.maxDevices : Number.NaN;
  if (!Number.isInteger(max)) errors.maxDevices = 'Enter a whole number of devices';
  else if (max < 1) errors.maxDevices = 'At least 1';
  else if (max > MAX_DEVICES_LIMIT)
    errors.maxDevices = `At most ${MAX_DEVICES_LIMIT.toLocaleString('en')}`;
  return errors;
}

/** The request body of a valid form. */
export function credentialInputOf(v: CredentialFormValues) {
  return {
    name: v.name.trim(),
    batchId: v.batchId!,
    notAfter: localInputToIso(v.notAfter)!,
    maxDevices: Number(v.maxDevices),
  };
}

export const STATUS_COLOURS: Record<CredentialStatus, string> = {
  active: 'green.9',
  expired: 'gray.7',
  'used-up': 'orange.9',
};

/** "12 of 500", and the share used for a progress bar (0–100). */
export function usage(c: { usedDevices: number; maxDevices: number }): {
  text: string;
  percent: number;
} {
  const percent = c.maxDevices > 0 ? Math.min(100, (c.usedDevices / c.maxDevices) * 100) : 0;
  return {
    text: `${c.usedDevices.toLocaleString('en')} of ${c.maxDevices.toLocaleString('en')}`,
    percent,
  };
}
