/** How sign-in failures slow down one subject (an account or an address). */
export interface ThrottlePolicy {
  /** Failures allowed before any delay. */
  freeFailures: number;
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  /** A quiet period after which the count starts again. */
  resetAfterSeconds: number;
}

export interface ThrottleState {
  failures: number;
  lastFailureAt: string;
  blockedUntil: string | null;
}

/** Seconds to wait before the next attempt; 0 when one is allowed now. */
export function retryAfterSeconds(state: ThrottleState | undefined, now: Date): number {
  if (!state?.blockedUntil) return 0;
  const ms = Date.parse(state.blockedUntil) - now.getTime();
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}

/**
 * The state after one more failure. The delay doubles with each failure past the free ones, up
 * to the maximum, so guessing slows to a crawl while a user who mistyped waits a second or two.
 */
export function afterFailure(
  state: ThrottleState | undefined,
  policy: ThrottlePolicy,
  now: Date,
): ThrottleState {
  const fresh =
    !state || now.getTime() - Date.parse(state.lastFailureAt) > policy.resetAfterSeconds * 1000;
  const failures = fresh ? 1 : state.failures + 1;
  const over = failures - policy.freeFailures;
  const delay =
    over < 0 ? 0 : Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds * 2 ** over);
  return {
    failures,
    lastFailureAt: now.toISOString(),
    blockedUntil: delay > 0 ? new Date(now.getTime() + delay * 1000).toISOString() : null,
  };
}
