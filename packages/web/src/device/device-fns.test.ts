import { describe, expect, it } from 'vitest';
import type { RolloutDevice } from '../firmware/firmware-types';
import {
  canRevoke,
  daysUntil,
  findInRollout,
  formatSerial,
  hubSyncSummary,
  isDeviceId,
} from './device-fns';

const entry = (deviceId: string): RolloutDevice => ({
  deviceId,
  status: 'pending',
  reason: null,
  createdAt: '',
  updatedAt: '',
  downloadingAt: null,
  installingAt: null,
  installedAt: null,
  failedAt: null,
  reportedAt: null,
});

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

describe('findInRollout', () => {
  const pages = (ids: string[]) => {
    const calls: number[] = [];
    const fetch = async (offset: number, limit: number) => {
      calls.push(offset);
      return { items: ids.slice(offset, offset + limit).map(entry), total: ids.length };
    };
    return { calls, fetch };
  };
  it('ok/found on a later page', async () => {
    const p = pages(['a', 'b', 'c', 'd', 'e']);
    const r = await findInRollout('d', p.fetch, { limit: 2 });
    expect(r.found?.deviceId).toBe('d');
    expect(p.calls).toEqual([0, 2]);
  });
  it('ok/not in the rollout: every page read once', async () => {
    const p = pages(['a', 'b', 'c']);
    expect(await findInRollout('z', p.fetch, { limit: 2 })).toEqual({
      found: undefined,
      complete: true,
    });
    expect(p.calls).toEqual([0, 2]);
  });
  it('ok/stops at the page cap and says the search was cut short', async () => {
    const p = pages(['a', 'b', 'c', 'd', 'e']);
    expect(await findInRollout('z', p.fetch, { limit: 1, maxPages: 2 })).toEqual({
      found: undefined,
      complete: false,
    });
  });
});
