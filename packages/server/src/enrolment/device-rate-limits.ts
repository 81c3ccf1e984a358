import type { FastifyRequest } from 'fastify';
import { TooManyRequestsError } from '../lib/errors.js';
import {
  addressKey,
  bucketFull,
  limitOn,
  takeToken,
  type Bucket,
  type RateLimit,
} from './rate-limit-fns.js';

export interface DeviceRateLimitsDeps {
  /** Unauthenticated routes (challenge, time, enrol, session, EST enrolment), per source address. */
  perAddress: RateLimit;
  /** Authenticated routes (status, certificate, renew, EST re-enrolment), per device. */
  perDevice: RateLimit;
  /** Milliseconds on a monotonic clock; the wall clock may be stepped (and is, in tests). */
  clockMs?: () => number;
  /** How often buckets that have filled up again are forgotten. */
  sweepMs?: number;
}

/**
 * The device port's rate limits: token buckets in memory, one per source address for the
 * routes anyone may call, one per device for the routes a device calls once authenticated.
 * A caller over its limit gets 429 with Retry-After (problem+json) and costs the server no
 * more than a map lookup. Per process: replicas each keep their own, which bounds each
 * process's work, which is what the limit protects. Devices behind one NAT share an address,
 * which is why check-ins are limited per device, not per address.
 */
export function createDeviceRateLimits(deps: DeviceRateLimitsDeps) {
  const clockMs = deps.clockMs ?? (() => performance.now());
  const addresses = new Map<string, Bucket>();
  const devices = new Map<string, Bucket>();
  let timer: NodeJS.Timeout | undefined;

  function take(map: Map<string, Bucket>, limit: RateLimit, key: string, what: string): void {
    const r = takeToken(map.get(key), limit, clockMs());
    map.set(key, r.bucket);
    if (!r.ok) {
      throw new TooManyRequestsError(
        `too many requests from this ${what}; retry after ${r.retryAfterSeconds} s`,
        r.retryAfterSeconds,
      );
    }
  }

  function sweep(): void {
    const t = clockMs();
    for (const [map, limit] of [
      [addresses, deps.perAddress],
      [devices, deps.perDevice],
    ] as const) {
      for (const [k, b] of map) if (bucketFull(b, limit, t)) map.delete(k);
    }
  }

  return {
    /** An onRequest hook: refuses before the body is read or anything is looked up. */
    byAddress: async (req: FastifyRequest): Promise<void> => {
      if (limitOn(deps.perAddress)) take(addresses, deps.perAddress, addressKey(req.ip), 'address');
    },
    /** Counts one request of an authenticated device; throws 429 when it is over its limit. */
    device(instanceId: string, deviceId: string): void {
      if (limitOn(deps.perDevice))
        take(devices, deps.perDevice, `${instanceId}/${deviceId}`, 'device');
    },
    /** Buckets held (for tests and metrics). */
    size: () => addresses.size + devices.size,
    sweep,
    start() {
      timer = setInterval(sweep, deps.sweepMs ?? 60_000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
export type DeviceRateLimits = ReturnType<typeof createDeviceRateLimits>;
