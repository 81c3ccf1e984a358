/**
 * Session, for key stores that can sign but cannot drive TLS client authentication.
 *
 *   -> POST /device/v1/challenge            {}
 *   <- { nonce, expiresAt }
 *   -> POST /device/v1/session
 *        Trustlink-Proof: cert=<device certificate>|spki=<identity SPKI>; nonce=...; sig=...   purpose "session"
 *        {}
 *   <- 200 { token, expiresAt }             then: Authorization: Bearer <token>, at most 15 minutes
 *   <- 401 unauthorized | 403 device-revoked | 409 challenge-replayed
 *
 * Tokens are opaque handles kept server-side, so revoking the device kills them at once. The
 * device certificate, if any, rides in the proof header's `cert=` field rather than the body.
 */
import { z } from 'zod';
import { isoTimeSchema } from './common-schemas.js';

/** Longest a session token lives. */
export const SESSION_MAX_SECONDS = 15 * 60;

export const sessionRequestSchema = z.strictObject({});
export type SessionRequest = z.infer<typeof sessionRequestSchema>;

/** An opaque bearer token (RFC 6750 token characters). */
export const bearerTokenSchema = z.string().regex(/^[A-Za-z0-9._~-]{16,512}$/);

export const sessionResponseSchema = z.strictObject({
  token: bearerTokenSchema,
  expiresAt: isoTimeSchema,
});
export type SessionResponse = z.infer<typeof sessionResponseSchema>;
