import { describe, expect, it } from 'vitest';
import { nextCheckInDelayMs, retryDelayMs } from './backoff-fns.js';

describe('backoff', () => {
  it('ok/check-ins vary by at most 10% and never pass the renewal time', () => {
    expect(nextCheckInDelayMs(100, () => 0)).toBe(90_000);
    expect(nextCheckInDelayMs(100, () => 1)).toBe(110_000);
    expect(nextCheckInDelayMs(100, () => 0.5, 5_000)).toBe(5_000);
    expect(nextCheckInDelayMs(100, () => 0.5, -1)).toBe(0);
  });

  it('ok/retries double up to the cap, with jitter in the upper half', () => {
    const o = { initialSeconds: 2, maxSeconds: 60 };
    expect(retryDelayMs(1, o, () => 1)).toBe(2_000);
    expect(retryDelayMs(1, o, () => 0)).toBe(1_000);
    expect(retryDelayMs(3, o, () => 1)).toBe(8_000);
    expect(retryDelayMs(30, o, () => 1)).toBe(60_000);
    expect(retryDelayMs(30, o, () => 0)).toBe(30_000);
  });

  it('ok/Retry-After is honoured as a minimum', () => {
    expect(
      retryDelayMs(1, { initialSeconds: 1, maxSeconds: 2, retryAfterSeconds: 30 }, () => 0),
    ).toBe(30_000);
  });
});
