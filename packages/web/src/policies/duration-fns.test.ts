import { describe, expect, it } from 'vitest';
import {
  addDuration,
  compareDurations,
  durationCountError,
  formatDuration,
  type Duration,
} from './duration-fns';

const d = (value: number, unit: Duration['unit']): Duration => ({ value, unit });

describe('addDuration', () => {
  const cases: [string, string, Duration, string][] = [
    ['ok/minutes', '2024-01-01T00:00:00Z', d(90, 'minutes'), '2024-01-01T01:30:00.000Z'],
    ['ok/days', '2024-02-28T12:00:00Z', d(2, 'days'), '2024-03-01T12:00:00.000Z'],
    [
      'ok/month from 31 Jan ends on the last of Feb',
      '2023-01-31T00:00:00Z',
      d(1, 'months'),
      '2023-02-28T00:00:00.000Z',
    ],
    ['ok/leap year', '2024-01-31T00:00:00Z', d(1, 'months'), '2024-02-29T00:00:00.000Z'],
    ['ok/years from 29 Feb', '2024-02-29T00:00:00Z', d(1, 'years'), '2025-02-28T00:00:00.000Z'],
  ];
  it.each(cases)('%s', (_name, from, dur, want) => {
    expect(addDuration(new Date(from), dur).toISOString()).toBe(want);
  });
});

describe('compareDurations', () => {
  const from = new Date('2023-01-31T00:00:00Z');
  it('ok/calendar terms: 1 month is shorter than 30 days from 31 January', () => {
    expect(compareDurations(d(1, 'months'), d(30, 'days'), from)).toBeLessThan(0);
  });
  it('ok/12 months equal a year', () => {
    expect(compareDurations(d(12, 'months'), d(1, 'years'), from)).toBe(0);
  });
  it('fail/2 years exceed 18 months', () => {
    expect(compareDurations(d(2, 'years'), d(18, 'months'), from)).toBeGreaterThan(0);
  });
});

describe('formatDuration', () => {
  it('ok/singular and plural', () => {
    expect(formatDuration(d(1, 'days'))).toBe('1 day');
    expect(formatDuration(d(3, 'months'))).toBe('3 months');
  });
});

describe('durationCountError', () => {
  const cases: [string, number | string, string | null][] = [
    ['ok/1', 1, null],
    ['ok/100000', 100_000, null],
    ['fail/empty', '', 'Enter a number'],
    ['fail/zero', 0, 'Must be at least 1'],
    ['fail/fraction', 1.5, 'Use a whole number'],
    ['fail/too large', 100_001, 'Must be at most 100,000'],
  ];
  it.each(cases)('%s', (_name, v, want) => expect(durationCountError(v)).toBe(want));
});
