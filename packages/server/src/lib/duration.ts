import { z } from 'zod';

export const DURATION_UNITS = ['minutes', 'hours', 'days', 'months', 'years'] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number];

/** A lifetime as users state it: a count of calendar units. */
export interface Duration {
  value: number;
  unit: DurationUnit;
}

export const durationSchema = z.object({
  value: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100_000),
  unit: z.enum(DURATION_UNITS),
});

/**
 * Adds a duration to a time in UTC calendar terms: one month from 31 January is the last day
 * of February, as people expect, not 31 days later.
 */
export function addDuration(from: Date, d: Duration): Date {
  const t = new Date(from.getTime());
  switch (d.unit) {
    case 'minutes':
      return new Date(t.getTime() + d.value * 60_000);
    case 'hours':
      return new Date(t.getTime() + d.value * 3_600_000);
    case 'days':
      return new Date(t.getTime() + d.value * 86_400_000);
    case 'months':
    case 'years': {
      const months = d.unit === 'years' ? d.value * 12 : d.value;
      const day = t.getUTCDate();
      t.setUTCDate(1);
      t.setUTCMonth(t.getUTCMonth() + months);
      const last = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 0)).getUTCDate();
      t.setUTCDate(Math.min(day, last));
      return t;
    }
  }
}

/** Compares two durations from the same start: negative when a is shorter. */
export function compareDurations(a: Duration, b: Duration, from: Date): number {
  return addDuration(from, a).getTime() - addDuration(from, b).getTime();
}

/** "3 months", "1 day". */
export function formatDuration(d: Duration): string {
  return `${d.value} ${d.value === 1 ? d.unit.slice(0, -1) : d.unit}`;
}
