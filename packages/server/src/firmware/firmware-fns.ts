import {
  ATTRIBUTE_NAME,
  MAX_ATTRIBUTE_VALUE,
  type Attribute,
  type UpdateStatus,
} from './firmware-types.js';

/**
 * Pure rules of the firmware domain: attribute parameters and filters, the order in which an
 * update's status may move, and when a stored manifest is re-signed.
 */

/** Parses `name:value` (the value may itself hold colons); the form of `attr=` parameters. */
export function parseAttributeParam(
  text: string,
): { ok: true; attribute: Attribute } | { ok: false; reason: string } {
  const i = text.indexOf(':');
  if (i < 0) return { ok: false, reason: `"${text}" is not name:value` };
  const name = text.slice(0, i).trim();
  const value = text.slice(i + 1);
  if (!ATTRIBUTE_NAME.test(name)) {
    return {
      ok: false,
      reason: `attribute name "${name}" must be 1 to 64 letters, digits, dots, underscores or hyphens`,
    };
  }
  if (value.length > MAX_ATTRIBUTE_VALUE) {
    return { ok: false, reason: `attribute ${name}: value longer than ${MAX_ATTRIBUTE_VALUE}` };
  }
  return { ok: true, attribute: { name, value } };
}

/** An attribute filter: every pair (and) or any pair (or) must be among the attributes. */
export interface AttributeFilter {
  operator: 'and' | 'or';
  filters: Attribute[];
}

/** True when the attributes pass the filter; an empty filter passes everything. */
export function matchesAttributeFilter(attributes: Attribute[], filter: AttributeFilter): boolean {
  if (filter.filters.length === 0) return true;
  const has = (f: Attribute) => attributes.some((a) => a.name === f.name && a.value === f.value);
  return filter.operator === 'and' ? filter.filters.every(has) : filter.filters.some(has);
}

const RANK: Record<UpdateStatus, number> = {
  pending: 0,
  downloading: 1,
  installing: 2,
  installed: 3,
  failed: 3,
};

/** installed and failed end an update for a device; a new assignment starts another. */
export function isFinalStatus(status: UpdateStatus): boolean {
  return RANK[status] === 3;
}

/**
 * Whether a device's report moves its status: only forward (pending, downloading, installing,
 * then installed or failed), so a late or repeated report never undoes a later one.
 */
export function statusTransition(
  current: UpdateStatus,
  reported: UpdateStatus,
): { move: true } | { move: false; reason: string } {
  if (isFinalStatus(current))
    return { move: false, reason: `the update is already ${current} on this device` };
  if (RANK[reported] <= RANK[current])
    return { move: false, reason: `${reported} does not follow ${current}` };
  return { move: true };
}

/** Issue and expiry time of a manifest signed now. */
export function manifestTimes(now: Date, lifetimeSeconds: number) {
  // Whole seconds: the times are compared by devices whose clocks are no finer.
  const issued = Math.floor(now.getTime() / 1000) * 1000;
  return {
    issuedAt: new Date(issued).toISOString(),
    expiresAt: new Date(issued + lifetimeSeconds * 1000).toISOString(),
  };
}

/**
 * A stored manifest is re-signed once half its lifetime has passed, so a device is never handed
 * one about to expire, while an old copy captured on the way still dies at its own expiry.
 */
export function manifestNeedsRenewal(issuedAt: string, expiresAt: string, now: Date): boolean {
  const from = Date.parse(issuedAt);
  const to = Date.parse(expiresAt);
  return now.getTime() >= from + (to - from) / 2;
}

/** The MQTT topic on which a device hears of its firmware updates. */
export function firmwareTopic(deviceId: string): string {
  return `devices/${deviceId}/firmware`;
}

/**
 * The message on that topic: the same `update` object the check-in answers with, so a device
 * handles both alike (and fetches the manifest over the device API, where it is authenticated).
 */
export function firmwareUpdateMessage(updateId: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      update: { id: updateId, manifestUrl: `/device/v1/updates/${updateId}/manifest` },
    }),
  );
}
