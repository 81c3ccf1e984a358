import { describe, expect, it } from 'vitest';
import { createTrustedClock } from './trusted-clock.js';

const at = (s: string) => new Date(s);

describe('trusted clock', () => {
  it('ok/system time is used as it is and raises the floor', () => {
    const c = createTrustedClock({ source: 'system', system: () => at('2026-11-26T00:00:00Z') });
    expect(c.needsSignedTime()).toBe(false);
    expect(c.raiseFloor().toISOString()).toBe('2026-11-26T00:00:00.000Z');
  });

  it('ok/auto: a clock behind the floor asks for signed time, then runs on it', () => {
    let mono = 1000;
    const c = createTrustedClock({
      source: 'auto',
      floor: at('2026-11-20T00:00:00Z'),
      system: () => at('1970-01-01T00:00:10Z'),
      monotonicMs: () => mono,
    });
    expect(c.needsSignedTime()).toBe(true);
    // Until it knows better, the agent's time is the floor: never the 1970 clock.
    expect(c.now().toISOString()).toBe('2026-11-20T00:00:00.000Z');
    c.adoptSignedTime(at('2026-11-26T00:00:00Z'));
    mono += 30_000;
    expect(c.needsSignedTime()).toBe(false);
    expect(c.usingSignedTime()).toBe(true);
    expect(c.now().toISOString()).toBe('2026-11-26T00:00:30.000Z');
    expect(c.raiseFloor().toISOString()).toBe('2026-11-26T00:00:30.000Z');
  });

  it('ok/platform: signed time is refreshed after a while', () => {
    let mono = 0;
    const c = createTrustedClock({ source: 'platform', monotonicMs: () => mono });
    expect(c.needsSignedTime()).toBe(true);
    c.adoptSignedTime(at('2026-11-26T00:00:00Z'));
    expect(c.needsSignedTime()).toBe(false);
    mono += 7 * 3600 * 1000;
    expect(c.needsSignedTime()).toBe(true);
  });

  it('fail/the floor never moves back, whatever the source says', () => {
    const c = createTrustedClock({
      source: 'platform',
      floor: at('2026-11-26T00:00:00Z'),
      monotonicMs: () => 0,
    });
    c.adoptSignedTime(at('2026-01-01T00:00:00Z'));
    expect(c.now().toISOString()).toBe('2026-11-26T00:00:00.000Z');
    expect(c.raiseFloor().toISOString()).toBe('2026-11-26T00:00:00.000Z');
  });
});
