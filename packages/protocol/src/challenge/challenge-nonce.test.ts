import { describe, expect, it } from 'vitest';
import { CHALLENGE_NONCE_LENGTH, checkChallenge, issueChallenge } from './challenge-nonce.js';

const key = Buffer.alloc(32, 7);
const now = new Date('2026-03-01T12:00:00.000Z');

describe('issueChallenge', () => {
  it('ok/nonce of fixed length, expiry after the TTL', () => {
    const c = issueChallenge(key, now, 60);
    expect(c.nonce).toHaveLength(CHALLENGE_NONCE_LENGTH);
    expect(c.expiresAt).toBe('2026-03-01T12:01:00.000Z');
  });

  it('ok/two challenges differ', () => {
    expect(issueChallenge(key, now).nonce).not.toBe(issueChallenge(key, now).nonce);
  });

  it.each([
    ['fail/short key', Buffer.alloc(31), 60, /32 bytes/],
    ['fail/zero TTL', key, 0, /ttlSeconds/],
    ['fail/TTL over an hour', key, 3601, /ttlSeconds/],
    ['fail/fractional TTL', key, 1.5, /ttlSeconds/],
  ])('%s', (_name, k, ttl, message) => {
    expect(() => issueChallenge(k, now, ttl)).toThrow(message);
  });

  it('fail/random source of the wrong size', () => {
    expect(() => issueChallenge(key, now, 60, () => Buffer.alloc(8))).toThrow(/16 bytes/);
  });
});

describe('checkChallenge', () => {
  const { nonce, expiresAt } = issueChallenge(key, now, 60);
  const bytes = Buffer.from(nonce, 'base64url');
  const variant = (i: number) => {
    const b = Buffer.from(bytes);
    b[i]! ^= 0x01;
    return b.toString('base64url');
  };

  it('ok/valid until just before expiry, on any replica with the key', () => {
    expect(checkChallenge(Buffer.alloc(32, 7), nonce, new Date(Date.parse(expiresAt) - 1))).toEqual(
      {
        ok: true,
        expiresAt: new Date(expiresAt),
      },
    );
  });

  it.each([
    ['fail/at expiry', nonce, new Date(expiresAt), key, 'expired'],
    ['fail/long after expiry', nonce, new Date(Date.parse(expiresAt) + 86_400_000), key, 'expired'],
    ['fail/other key', nonce, now, Buffer.alloc(32, 8), 'forged'],
    ['fail/random part changed', variant(3), now, key, 'forged'],
    ['fail/expiry changed', variant(20), now, key, 'forged'],
    ['fail/MAC changed', variant(40), now, key, 'forged'],
    ['fail/other version', variant(0), now, key, 'malformed'],
    ['fail/empty', '', now, key, 'malformed'],
    ['fail/too short', nonce.slice(1), now, key, 'malformed'],
    ['fail/not base64url', `${nonce.slice(0, -1)}+`, now, key, 'malformed'],
  ])('%s', (_name, n, at, k, reason) => {
    expect(checkChallenge(k, n, at)).toMatchObject({ ok: false, reason });
  });

  it('fail/short key is a programming error', () => {
    expect(() => checkChallenge(Buffer.alloc(16), nonce, now)).toThrow(RangeError);
  });
});
