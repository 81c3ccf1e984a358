/** How often a device without a clock asks the platform for the time again (drift). */
export const SIGNED_TIME_REFRESH_MS = 6 * 3600 * 1000;

export type TimeSource = 'auto' | 'system' | 'platform';

export interface TrustedClock {
  /** The agent's best idea of the time; never before the persisted floor. */
  now(): Date;
  /** The persisted floor (time never goes back below it). */
  floor(): Date | undefined;
  /** True when the agent should ask the platform for signed time before relying on `now()`. */
  needsSignedTime(): boolean;
  /** Whether `now()` currently comes from the platform's signed time. */
  usingSignedTime(): boolean;
  /** Adopts a verified signed time (it is measured from now on with the monotonic clock). */
  adoptSignedTime(time: Date): void;
  /** Moves the floor up to `now()` (never down); returns it, for the state file. */
  raiseFloor(): Date;
}

/**
 * The agent's clock (PROTOCOL.md "Time"). `system` trusts the system clock; `platform` is for
 * devices without a real-time clock: it runs on the last signed time plus the monotonic clock;
 * `auto` uses the system clock unless it is behind the persisted floor, which a device whose
 * clock reset to 1970 shows at once. In every mode the time never goes below the floor.
 */
export function createTrustedClock(opts: {
  source: TimeSource;
  floor?: Date;
  system?: () => Date;
  monotonicMs?: () => number;
}): TrustedClock {
  const system = opts.system ?? (() => new Date());
  const mono = opts.monotonicMs ?? (() => performance.now());
  let floor = opts.floor;
  let signed: { time: number; mono: number } | undefined;

  const systemBehind = () => floor !== undefined && system().getTime() < floor.getTime();
  const useSigned = () => opts.source === 'platform' || (opts.source === 'auto' && systemBehind());

  function now(): Date {
    let t: number;
    if (!useSigned()) t = system().getTime();
    else if (signed) t = signed.time + (mono() - signed.mono);
    else t = floor?.getTime() ?? 0;
    return new Date(Math.max(t, floor?.getTime() ?? 0));
  }

  return {
    now,
    floor: () => floor,
    needsSignedTime: () =>
      useSigned() && (!signed || mono() - signed.mono > SIGNED_TIME_REFRESH_MS),
    usingSignedTime: () => useSigned() && signed !== undefined,
    adoptSignedTime(time) {
      signed = { time: time.getTime(), mono: mono() };
    },
    raiseFloor() {
      const t = now();
      if (!floor || t.getTime() > floor.getTime()) floor = t;
      return floor;
    },
  };
}
