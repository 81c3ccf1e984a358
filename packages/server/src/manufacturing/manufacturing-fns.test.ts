import { describe, expect, it } from 'vitest';
import {
  bearerOf,
  credentialStatus,
  hashCredential,
  looksLikeCredential,
  newCredential,
} from './manufacturing-fns.js';

describe('manufacturing credential values', () => {
  it('ok/new values have the prefix, 256 bits, and differ', () => {
    const a = newCredential();
    expect(a).toMatch(/^tlm_[A-Za-z0-9_-]{43}$/);
    expect(looksLikeCredential(a)).toBe(true);
    expect(newCredential()).not.toBe(a);
    expect(hashCredential(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['fail/API token prefix', `tlk_${'A'.repeat(43)}`],
    ['fail/too short', `tlm_${'A'.repeat(42)}`],
    ['fail/padding', `tlm_${'A'.repeat(42)}=`],
    ['fail/empty', ''],
  ])('%s', (_n, v) => expect(looksLikeCredential(v)).toBe(false));
});

describe('credentialStatus', () => {
  const now = new Date('2026-11-26T00:00:00Z');
  it.each([
    ['ok/active', { notAfter: '2026-11-27T00:00:00Z', maxDevices: 2, usedDevices: 1 }, 'active'],
    ['ok/used up', { notAfter: '2026-11-27T00:00:00Z', maxDevices: 2, usedDevices: 2 }, 'used-up'],
    [
      'ok/expired at not-after',
      { notAfter: now.toISOString(), maxDevices: 2, usedDevices: 0 },
      'expired',
    ],
    [
      'ok/expired wins over used up',
      { notAfter: '2026-11-25T00:00:00Z', maxDevices: 1, usedDevices: 1 },
      'expired',
    ],
  ] as const)('%s', (_n, c, status) => expect(credentialStatus(c, now)).toBe(status));
});

describe('bearerOf', () => {
  it.each([
    ['ok/bearer', 'Bearer abc', 'abc'],
    ['ok/any case', 'bearer abc', 'abc'],
    ['fail/basic', 'Basic abc', undefined],
    ['fail/missing', undefined, undefined],
    ['fail/two values', 'Bearer a b', undefined],
  ])('%s', (_n, h, v) => expect(bearerOf(h)).toBe(v));
});
