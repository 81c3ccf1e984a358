/**
 * Challenge: a fresh, single-use nonce for a proof of possession.
 *
 *   -> POST /device/v1/challenge                 {}
 *   <- 200 { nonce, expiresAt }
 *   -> POST /device/v1/<enrol|session|renew>     Trustlink-Proof: spki=...; nonce=<nonce>; sig=...
 *   <- 409 challenge-replayed                    nonce already used or expired: fetch a new one
 *   <- 401 unauthorized                          anything else about the proof (reason in the audit log)
 *
 * The nonce format and its checks are in challenge/challenge-nonce.ts; the header in proof/.
 */
import { z } from 'zod';
import { isoTimeSchema } from './common-schemas.js';

export const challengeRequestSchema = z.strictObject({});
export type ChallengeRequest = z.infer<typeof challengeRequestSchema>;

export const challengeResponseSchema = z.strictObject({
  nonce: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/),
  expiresAt: isoTimeSchema,
});
export type ChallengeResponse = z.infer<typeof challengeResponseSchema>;
