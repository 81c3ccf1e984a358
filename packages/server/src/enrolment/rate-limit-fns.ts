import { isIP } from 'node:net';

/** A limit: a sustained rate and the burst a caller may spend at once. 0 turns it off. */
export interface RateLimit {
  perMinute: number;
  burst: number;
}

/** One caller's bucket: tokens left at `at` (milliseconds on a monotonic clock). */
export interface Bucket {
  tokens: number;
  at: number;
}

/** Whether a limit is in force (either number 0 switches it off). */
export function limitOn(limit: RateLimit): boolean {
  return limit.perMinute > 0 && limit.burst > 0;
}

/**
 * Takes one token from a bucket that refills at `perMinute` up to `burst`. A new caller starts
 * with a full bucket, so devices that all boot at once are served. When empty, says how many
 * whole seconds until the next token (what Retry-After carries, at least 1).
 */
export function takeToken(
  bucket: Bucket | undefined,
  limit: RateLimit,
  nowMs: number,
): { bucket: Bucket; ok: true } | { bucket: Bucket; ok: false; retryAfterSeconds: number } {
  const perMs = limit.perMinute / 60_000;
  const tokens = bucket
    ? Math.min(limit.burst, bucket.tokens + Math.max(0, nowMs - bucket.at) * perMs)
    : limit.burst;
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, at: nowMs }, ok: true };
  return {
    bucket: { tokens, at: nowMs },
    ok: false,
    retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)),
  };
}

/** Whether a bucket untouched since `bucket.at` would be full again (so it can be forgotten). */
export function bucketFull(bucket: Bucket, limit: RateLimit, nowMs: number): boolean {
  return bucket.tokens + (nowMs - bucket.at) * (limit.perMinute / 60_000) >= limit.burst;
}

/**
 * The key a source address is limited under: IPv4 as is, IPv6 by its /64 (one subscriber
 * usually holds a whole /64, so per-address keys would let it walk around the limit). An
 * IPv4-mapped IPv6 address counts as its IPv4 address.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
