import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix of API tokens, so secret scanners and people recognise them. */
export const API_TOKEN_PREFIX = 'tlk_';
const API_TOKEN_PATTERN = /^tlk_[A-Za-z0-9_-]{43}$/;
const BASE32 = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** 256 random bits, base64url. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Only this hash of a bearer secret (session, token, challenge) is stored. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newApiToken(): string {
  return API_TOKEN_PREFIX + randomToken();
}

export function looksLikeApiToken(value: string): boolean {
  return API_TOKEN_PATTERN.test(value);
}

/**
 * The CSRF token of a session: derived from the session secret, so it needs no storage, and a
 * page on another site (which cannot read the HttpOnly cookie) cannot compute it.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('trustlink-csrf-v1').digest('base64url');
}

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * One recovery code: 16 characters from a 32-letter alphabet without look-alikes (80 bits),
 * grouped by four. 80 bits make a stolen hash useless even though it is a plain SHA-256.
 */
export function newRecoveryCode(): string {
  const bytes = randomBytes(16);
  let s = '';
  for (const b of bytes) s += BASE32[b & 31];
  return s.match(/.{4}/g)!.join('-');
}

/** Accepts a recovery code typed with or without dashes and spaces, in any case. */
export function normaliseRecoveryCode(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase();
}

export function hashRecoveryCode(code: string): string {
  return hashSecret(`recovery:${normaliseRecoveryCode(code)}`);
}
