import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { fromBase64url, toBase64url } from '../encoding/base64url.js';
import { type Result, fail } from '../result.js';

/**
 * Stateless challenge nonces (PROTOCOL.md "Identity"). Any replica holding the server key can
 * check a nonce without a database read:
 *
 *   nonce = base64url( 0x01 | random[16] | expiresAtMs[8, big-endian] | mac[32] )
 *   mac   = HMAC-SHA-256(key, "trustlink-challenge-v1" | 0x01 | random | expiresAtMs)
 *
 * Single use is NOT enforced here: the server must burn a nonce on its first accepted use
 * (record it until its expiry, e.g. keyed by its SHA-256) and refuse it afterwards with 409.
 */
export const CHALLENGE_VERSION = 1;
/** Default lifetime: long enough for a TPM to sign over a slow link, short enough to keep few. */
export const CHALLENGE_TTL_SECONDS = 120;
export const CHALLENGE_MAX_TTL_SECONDS = 3600;
const DOMAIN = Buffer.from('trustlink-challenge-v1', 'ascii');
const RANDOM_BYTES = 16;
const BODY_BYTES = 1 + RANDOM_BYTES + 8;
const NONCE_BYTES = BODY_BYTES + 32;
/** Length of a nonce string on the wire. */
export const CHALLENGE_NONCE_LENGTH = Math.ceil((NONCE_BYTES * 4) / 3);

/** A challenge as the server hands it out. */
export interface Challenge {
  nonce: string;
  expiresAt: string;
}

export type ChallengeFailure = 'malformed' | 'forged' | 'expired';

function mac(key: Uint8Array, body: Uint8Array): Buffer {
  return createHmac('sha256', key).update(DOMAIN).update(body).digest();
}

function checkKey(key: Uint8Array): void {
  if (key.length < 32) throw new RangeError('the challenge key must have at least 32 bytes');
}

/**
 * Issues a challenge valid for `ttlSeconds` from `now`, MACed with the server's `key` (at least
 * 32 bytes, the same on every replica; derive one per instance if instances must not share
 * nonces). `random` defaults to `crypto.randomBytes`; tests and vectors inject fixed bytes.
 */
export function issueChallenge(
  key: Uint8Array,
  now: Date,
  ttlSeconds: number = CHALLENGE_TTL_SECONDS,
  random: (size: number) => Uint8Array = randomBytes,
): Challenge {
  checkKey(key);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > CHALLENGE_MAX_TTL_SECONDS) {
    throw new RangeError(`ttlSeconds must be an integer from 1 to ${CHALLENGE_MAX_TTL_SECONDS}`);
  }
  const r = random(RANDOM_BYTES);
  if (r.length !== RANDOM_BYTES) throw new RangeError(`random must give ${RANDOM_BYTES} bytes`);
  const expiresAtMs = now.getTime() + ttlSeconds * 1000;
  const body = Buffer.alloc(BODY_BYTES);
  body[0] = CHALLENGE_VERSION;
  body.set(r, 1);
  body.writeBigUInt64BE(BigInt(expiresAtMs), 1 + RANDOM_BYTES);
  const nonce = toBase64url(Buffer.concat([body, mac(key, body)]));
  return { nonce, expiresAt: new Date(expiresAtMs).toISOString() };
}

/**
 * Checks a nonce: issued with `key` (else `forged`), not yet expired at `now` (else `expired`).
 * The MAC is checked before the expiry so an attacker learns nothing from the timing of either.
 */
export function checkChallenge(
  key: Uint8Array,
  nonce: string,
  now: Date,
): Result<{ expiresAt: Date }, ChallengeFailure> {
  checkKey(key);
  const bytes = nonce.length === CHALLENGE_NONCE_LENGTH ? fromBase64url(nonce) : undefined;
  if (!bytes || bytes.length !== NONCE_BYTES || bytes[0] !== CHALLENGE_VERSION) {
    return fail('malformed', 'not a challenge nonce of this server');
  }
  const body = bytes.subarray(0, BODY_BYTES);
  if (!timingSafeEqual(mac(key, body), bytes.subarray(BODY_BYTES))) {
    return fail('forged', 'challenge nonce was not issued with this key');
  }
  const expiresAt = new Date(Number(body.readBigUInt64BE(1 + RANDOM_BYTES)));
  if (now.getTime() >= expiresAt.getTime()) {
    return fail('expired', `challenge nonce expired at ${expiresAt.toISOString()}`);
  }
  return { ok: true, expiresAt };
}
