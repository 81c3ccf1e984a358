import { describe, expect, it } from 'vitest';
import { addDuration, compareDurations, formatDuration } from './duration.js';

describe('addDuration', () => {
  const cases: [string, string, Parameters<typeof addDuration>[1], string][] = [
    [
      'ok/minutes',
      '2026-01-01T00:00:00.000Z',
      { value: 90, unit: 'minutes' },
      '2026-01-01T01:30:00.000Z',
    ],
    [
      'ok/days across DST-free UTC',
      '2026-03-28T12:00:00.000Z',
      { value: 2, unit: 'days' },
      '2026-03-30T12:00:00.000Z',
    ],
    [
      'ok/month end clamps',
      '2026-01-31T08:00:00.000Z',
      { value: 1, unit: 'months' },
      '2026-02-28T08:00:00.000Z',
    ],
    [
      'ok/leap year',
      '2028-01-31T00:00:00.000Z',
      { value: 1, unit: 'months' },
      '2028-02-29T00:00:00.000Z',
    ],
    [
      'ok/years from 29 February',
      '2028-02-29T00:00:00.000Z',
      { value: 1, unit: 'years' },
      '2029-02-28T00:00:00.000Z',
    ],
    [
      'ok/months across a year',
      '2026-11-15T00:00:00.000Z',
      { value: 3, unit: 'months' },
      '2027-02-15T00:00:00.000Z',
    ],
  ];
  for (const [name, from, d, want] of cases) {
    it(name, () => expect(addDuration(new Date(from), d).toISOString()).toBe(want));
  }
  it('ok/compare and format', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    expect(compareDurations({ value: 12, unit: 'months' }, { value: 1, unit: 'years' }, from)).toBe(
      0,
    );
    expect(
      compareDurations({ value: 366, unit: 'days' }, { value: 1, unit: 'years' }, from),
    ).toBeGreaterThan(0);
    expect(formatDuration({ value: 1, unit: 'days' })).toBe('1 day');
    expect(formatDuration({ value: 3, unit: 'months' })).toBe('3 months');
  });
});
