/** Challenge-nonce vectors: a fixed key, time and random value give one exact nonce. */
import { checkChallenge, issueChallenge } from '../../src/challenge/challenge-nonce.js';

export const CHALLENGE_KEY_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
export const CHALLENGE_RANDOM_HEX = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';
export const ISSUED_AT = '2026-03-01T12:00:00.000Z';
export const TTL_SECONDS = 120;

/** The nonce the vectors use (also inside the proof vectors). */
export function vectorChallenge(random = CHALLENGE_RANDOM_HEX) {
  return issueChallenge(
    Buffer.from(CHALLENGE_KEY_HEX, 'hex'),
    new Date(ISSUED_AT),
    TTL_SECONDS,
    () => Buffer.from(random, 'hex'),
  );
}

export function challengeVectors() {
  const { nonce, expiresAt } = vectorChallenge();
  const bytes = Buffer.from(nonce, 'base64url');
  const flipMac = Buffer.from(bytes);
  flipMac[flipMac.length - 1]! ^= 1;
  const laterExpiry = Buffer.from(bytes);
  laterExpiry[24]! ^= 0x10; // moves the expiry without the key: the MAC no longer matches
  const otherKey = 'ff'.repeat(32);
  const checks = [
    { name: 'ok/just issued', nonce, now: ISSUED_AT, expiresAt },
    {
      name: 'ok/one millisecond before expiry',
      nonce,
      now: new Date(Date.parse(expiresAt) - 1).toISOString(),
      expiresAt,
    },
    { name: 'fail/at expiry', nonce, now: expiresAt, reason: 'expired' },
    { name: 'fail/other key', nonce, now: ISSUED_AT, keyHex: otherKey, reason: 'forged' },
    {
      name: 'fail/flipped MAC bit',
      nonce: flipMac.toString('base64url'),
      now: ISSUED_AT,
      reason: 'forged',
    },
    {
      name: 'fail/expiry moved',
      nonce: laterExpiry.toString('base64url'),
      now: ISSUED_AT,
      reason: 'forged',
    },
    { name: 'fail/truncated', nonce: nonce.slice(0, -4), now: ISSUED_AT, reason: 'malformed' },
    { name: 'fail/padded', nonce: `${nonce}=`, now: ISSUED_AT, reason: 'malformed' },
  ];
  for (const c of checks) {
    const r = checkChallenge(
      Buffer.from(c.keyHex ?? CHALLENGE_KEY_HEX, 'hex'),
      c.nonce,
      new Date(c.now),
    );
    if ((r.ok ? undefined : r.reason) !== c.reason) throw new Error(`challenge ${c.name}`);
  }
  return {
    description:
      'nonce = base64url(0x01 | random[16] | expiresAtMs uint64 BE | HMAC-SHA-256(key, "trustlink-challenge-v1" | first 25 bytes)). issue: exact expected nonce; checks: checkChallenge results.',
    issue: {
      keyHex: CHALLENGE_KEY_HEX,
      now: ISSUED_AT,
      ttlSeconds: TTL_SECONDS,
      randomHex: CHALLENGE_RANDOM_HEX,
      nonce,
      expiresAt,
    },
    checks,
  };
}
