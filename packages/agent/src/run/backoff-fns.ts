/**
 * Wait before the next check-in: the interval varied by ±10% so a fleet that booted together
 * spreads out, and never past the renewal time.
 */
export function nextCheckInDelayMs(
  intervalSeconds: number,
  random: () => number,
  untilRenewMs?: number,
): number {
  const jittered = Math.round(intervalSeconds * 1000 * (0.9 + 0.2 * random()));
  if (untilRenewMs === undefined) return jittered;
  return Math.max(0, Math.min(jittered, untilRenewMs));
}

/**
 * Wait after the `failures`-th failure in a row (1, 2, ...): exponential from `initialSeconds`,
 * capped at `maxSeconds`, with "equal jitter" (half fixed, half random) so retries of many
 * devices after an outage do not arrive together. A Retry-After from the platform is a floor.
 */
export function retryDelayMs(
  failures: number,
  opts: { initialSeconds: number; maxSeconds: number; retryAfterSeconds?: number },
  random: () => number,
): number {
  const exp = Math.min(opts.maxSeconds, opts.initialSeconds * 2 ** Math.max(0, failures - 1));
  const delay = (exp / 2 + (exp / 2) * random()) * 1000;
  return Math.round(Math.max(delay, (opts.retryAfterSeconds ?? 0) * 1000));
}
