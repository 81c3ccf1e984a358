import type { DeviceDetail } from './device-types';

/** A device ID as the server accepts it in a path: 64 lowercase hex digits. */
export function isDeviceId(id: string): boolean {
  return /^[0-9a-f]{64}$/.test(id);
}

/** A serial in colon-separated pairs, as certificate viewers show it. */
export function formatSerial(hex: string): string {
  const even = hex.length % 2 ? `0${hex}` : hex;
  return even.toUpperCase().match(/.{2}/g)!.join(':');
}

/** Whole days from `now` until `iso` (negative once past). */
export function daysUntil(iso: string, now: Date): number {
  return Math.floor((new Date(iso).getTime() - now.getTime()) / 86_400_000);
}

/** Whether the console offers revocation: the device has had a certificate and is not revoked. */
export function canRevoke(d: Pick<DeviceDetail, 'state'>): boolean {
  return d.state === 'enrolled' || d.state === 'renewed' || d.state === 'expired';
}

/** Where hub sync stands in a word: what the user needs to know first. */
export function hubSyncSummary(entries: DeviceDetail['hubSync']): string {
  if (entries.length === 0) return 'nothing sent';
  const failed = entries.filter((e) => e.status === 'failed').length;
  const pending = entries.filter((e) => e.status === 'pending').length;
  if (failed) return `${failed} failed`;
  if (pending) return `${pending} pending`;
  return 'all done';
}
