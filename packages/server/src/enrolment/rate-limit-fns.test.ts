import { describe, expect, it } from 'vitest';
import { addressKey, bucketFull, limitOn, takeToken, type Bucket } from './rate-limit-fns.js';

describe('token bucket', () => {
  const limit = { perMinute: 60, burst: 3 };

  it('a new caller gets the whole burst, then waits for the refill', () => {
    let b: Bucket | undefined;
    for (let i = 0; i < 3; i++) {
      const r = takeToken(b, limit, 1000);
      expect(r.ok).toBe(true);
      b = r.bucket;
    }
    const refused = takeToken(b, limit, 1000);
    expect(refused).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    // One token a second at 60 per minute.
    expect(takeToken(refused.bucket, limit, 1999).ok).toBe(false);
    expect(takeToken(refused.bucket, limit, 2000).ok).toBe(true);
  });

  it('Retry-After is the whole seconds until the next token', () => {
    const slow = { perMinute: 2, burst: 1 };
    const first = takeToken(undefined, slow, 0);
    const r = takeToken(first.bucket, slow, 0);
    expect(r).toMatchObject({ ok: false, retryAfterSeconds: 30 });
    const later = takeToken(first.bucket, slow, 10_000);
    expect(later).toMatchObject({ ok: false, retryAfterSeconds: 20 });
  });

  it('never refills past the burst, and a full bucket can be forgotten', () => {
    const b = takeToken(undefined, limit, 0).bucket;
    expect(bucketFull(b, limit, 500)).toBe(false);
    expect(bucketFull(b, limit, 1000)).toBe(true);
    let cur: Bucket = b;
    let ok = 0;
    for (let i = 0; i < 10; i++) {
      const r = takeToken(cur, limit, 3_600_000);
      if (r.ok) ok++;
      cur = r.bucket;
    }
    expect(ok).toBe(3);
  });

  it('a caller under the rate is never refused', () => {
    // 100,000 devices checking in every 20 s: each device 3 per minute, far under 60.
    let b: Bucket | undefined;
    for (let t = 0; t < 3_600_000; t += 20_000) {
      const r = takeToken(b, { perMinute: 60, burst: 30 }, t);
      expect(r.ok).toBe(true);
      b = r.bucket;
    }
  });

  it('0 switches a limit off', () => {
    expect(limitOn({ perMinute: 0, burst: 10 })).toBe(false);
    expect(limitOn({ perMinute: 10, burst: 0 })).toBe(false);
    expect(limitOn({ perMinute: 10, burst: 1 })).toBe(true);
  });
});

describe('addressKey', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6, groups IPv6 by /64', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1')).toBe('fe80:0:0:0::/64');
  });
});
