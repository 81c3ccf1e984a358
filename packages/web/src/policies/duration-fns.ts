/**
 * Lifetimes as the policy API states them (packages/server/src/lib/duration.ts): a count of
 * calendar units. The console compares them the way the server does, from the same start and
 * in calendar terms, so a form refuses exactly what the server would refuse.
 */

export const DURATION_UNITS = ['minutes', 'hours', 'days', 'months', 'years'] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number];

export interface Duration {
  value: number;
  unit: DurationUnit;
}

/** The server's bounds on a duration's count. */
export const DURATION_MAX = 100_000;

/** Select options for a unit field, optionally limited to some units. */
export function unitOptions(units: readonly DurationUnit[] = DURATION_UNITS) {
  return units.map((u) => ({ value: u, label: u[0]!.toUpperCase() + u.slice(1) }));
}

/** Adds a duration in UTC calendar terms: a month from 31 January ends on the last of February. */
export function addDuration(from: Date, d: Duration): Date {
  switch (d.unit) {
    case 'minutes':
      return new Date(from.getTime() + d.value * 60_000);
    case 'hours':
      return new Date(from.getTime() + d.value * 3_600_000);
    case 'days':
      return new Date(from.getTime() + d.value * 86_400_000);
    case 'months':
    case 'years': {
      const t = new Date(from.getTime());
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

/** Negative when `a` ends before `b`, both counted from `from`. */
export function compareDurations(a: Duration, b: Duration, from: Date): number {
  return addDuration(from, a).getTime() - addDuration(from, b).getTime();
}

/** "3 months", "1 day", as the server writes durations in its messages. */
export function formatDuration(d: Duration): string {
  return `${d.value} ${d.value === 1 ? d.unit.slice(0, -1) : d.unit}`;
}

/**
 * Why a duration's count is unacceptable, or null. Form fields hold what was typed (a number,
 * or '' when empty), so the check takes either.
 */
export function durationCountError(value: number | string): string | null {
  if (value === '' || value === null) return 'Enter a number';
  const n = Number(value);
  if (!Number.isInteger(n)) return 'Use a whole number';
  if (n < 1) return 'Must be at least 1';
  if (n > DURATION_MAX) return `Must be at most ${DURATION_MAX.toLocaleString('en')}`;
  return null;
}
