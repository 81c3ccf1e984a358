import { describe, expect, it } from 'vitest';
import { etagMatches, pollAfterSeconds, renewAtOf, statusEtag } from './lifecycle-fns.js';

const base = {
  state: 'enrolled',
  serial: '0a1b',
  notAfter: '2027-01-01T00:00:00.000Z',
  renewAt: '2026-09-01T00:00:00.000Z',
  updateId: null,
};

describe('lifecycle functions', () => {
  it('ok/renewal is due after two thirds of the lifetime', () => {
    expect(renewAtOf('2026-01-01T00:00:00.000Z', '2026-01-04T00:00:00.000Z')).toBe(
      '2026-01-03T00:00:00.000Z',
    );
  });
  it.each([
    ['ok/far from renewal: an hour', '2026-06-01T00:00:00.000Z', 3600],
    ['ok/renewal in 10 minutes: soon after it', '2026-01-01T00:10:00.000Z', 660],
    ['ok/renewal past: an hour', '2025-12-31T00:00:00.000Z', 3600],
    ['ok/renewal in one second: never below a minute', '2026-01-01T00:00:01.000Z', 61],
  ])('%s', (_n, renewAt, expected) => {
    expect(pollAfterSeconds(new Date('2026-01-01T00:00:00.000Z'), renewAt)).toBe(expected);
  });
  it('ok/the ETag changes with state, certificate and update', () => {
    const tag = statusEtag(base);
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(statusEtag({ ...base })).toBe(tag);
    for (const change of [
      { state: 'renewed' },
      { state: 'expired' },
      { serial: '0a1c' },
      { notAfter: '2027-01-02T00:00:00.000Z' },
      { renewAt: '2026-09-02T00:00:00.000Z' },
      { updateId: 'u1' },
    ])
      expect(statusEtag({ ...base, ...change }), JSON.stringify(change)).not.toBe(tag);
  });
  it.each([
    ['ok/exact', '"abc"', true],
    ['ok/in a list', '"x", "abc"', true],
    ['ok/weak', 'W/"abc"', true],
    ['ok/star', '*', true],
    ['fail/other', '"abd"', false],
    ['fail/absent', undefined, false],
  ])('%s', (_n, header, expected) => {
    expect(etagMatches(header, '"abc"')).toBe(expected);
  });
});
