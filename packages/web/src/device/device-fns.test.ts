import { describe, expect, it } from 'vitest';
import { canRevoke, daysUntil, formatSerial, hubSyncSummary, isDeviceId } from './device-fns';

describe('device detail helpers', () => {
  it('ok/device IDs and serials', () => {
    expect(isDeviceId('a'.repeat(64))).toBe(true);
    expect(isDeviceId('A'.repeat(64))).toBe(false);
    expect(formatSerial('abc')).toBe('0A:BC');
  });
  it('ok/days until a time', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(daysUntil('2026-01-31T00:00:00Z', now)).toBe(30);
    expect(daysUntil('2025-12-31T00:00:00Z', now)).toBe(-1);
  });
  it('ok/revocable states', () => {
    expect(canRevoke({ state: 'enrolled' })).toBe(true);
    expect(canRevoke({ state: 'expired' })).toBe(true);
    expect(canRevoke({ state: 'revoked' })).toBe(false);
    expect(canRevoke({ state: 'registered' })).toBe(false);
  });
  it('ok/hub sync in a word', () => {
    const e = (status: 'pending' | 'done' | 'failed') => ({
      id: status,
      topic: 't',
      status,
      attempts: 1,
      lastError: null,
      createdAt: '',
      doneAt: null,
    });
    expect(hubSyncSummary([])).toBe('nothing sent');
    expect(hubSyncSummary([e('done'), e('failed')])).toBe('1 failed');
    expect(hubSyncSummary([e('done'), e('pending')])).toBe('1 pending');
    expect(hubSyncSummary([e('done')])).toBe('all done');
  });
});
