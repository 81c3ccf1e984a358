import type { CloudCert, DeviceSyncPlan } from './cloud-types.js';

const LIVE = new Set(['enrolled', 'renewed']);

/**
 * What a device's record on a cloud hub must be. The current certificate is kept; an older
 * one the hub still accepts stays in overlap until the device has been seen since its new
 * certificate was issued (it has switched) or the old one has expired or been revoked; a
 * revoked device is revoked on the hub.
 */
export function planDeviceSync(input: {
  device: {
    id: string;
    state: string;
    currentCertId: string | null;
    lastSeenAt: string | null;
  };
  /** The device's certificates, with their status. */
  certificates: (CloudCert & { status: string })[];
  /** Ids of certificates the hub accepts now (recorded as active). */
  activeOnHub: ReadonlySet<string>;
  now: Date;
}): DeviceSyncPlan {
  const { device, certificates, activeOnHub, now } = input;
  const t = now.getTime();
  const plan: DeviceSyncPlan = { deviceId: device.id, revoked: false, keep: [], retire: [] };
  if (device.state === 'revoked') return { ...plan, revoked: true };
  const usable = (c: { status: string; notAfter: string }) =>
    c.status === 'valid' && Date.parse(c.notAfter) > t;
  const strip = ({ status: _s, ...c }: CloudCert & { status: string }): CloudCert => c;
  const current = certificates.find((c) => c.id === device.currentCertId);
  if (current && usable(current) && LIVE.has(device.state)) plan.keep.push(strip(current));
  const switched =
    current !== undefined &&
    device.lastSeenAt !== null &&
    Date.parse(device.lastSeenAt) > Date.parse(current.createdAt);
  for (const c of certificates) {
    if (c.id === current?.id && plan.keep.length) continue;
    if (!activeOnHub.has(c.id)) continue;
    if (usable(c) && !switched && LIVE.has(device.state)) plan.keep.push(strip(c));
    else plan.retire.push(strip(c));
  }
  return plan;
}
