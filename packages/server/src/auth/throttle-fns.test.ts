import { describe, expect, it } from 'vitest';
import { afterFailure, retryAfterSeconds, type ThrottleState } from './throttle-fns.js';

const policy = {
  freeFailures: 3,
  baseDelaySeconds: 1,
  maxDelaySeconds: 60,
  resetAfterSeconds: 3600,
};
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

function failTimes(n: number): ThrottleState | undefined {
  let s: ThrottleState | undefined;
  for (let i = 0; i < n; i++) s = afterFailure(s, policy, t0);
  return s;
}

describe('throttle-fns', () => {
  it.each([
    ['ok/first failures are free', 2, 0],
    ['ok/delay starts at the base', 3, 1],
    ['ok/delay doubles', 5, 4],
    ['ok/delay is capped', 20, 60],
  ])('%s', (_n, failures, wait) => {
    expect(retryAfterSeconds(failTimes(failures), t0)).toBe(wait);
  });

  it('ok/the wait runs out', () => {
    expect(retryAfterSeconds(failTimes(5), at(4))).toBe(0);
    expect(retryAfterSeconds(failTimes(5), at(3.5))).toBe(1);
  });

  it('ok/the count starts again after a quiet hour', () => {
    const s = afterFailure(failTimes(10), policy, at(3601));
    expect(s.failures).toBe(1);
    expect(s.blockedUntil).toBeNull();
  });

  it('ok/no state means no wait', () => expect(retryAfterSeconds(undefined, t0)).toBe(0));
});
