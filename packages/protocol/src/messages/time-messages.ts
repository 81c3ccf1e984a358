/**
 * Signed time, for devices without a real-time clock (PROTOCOL.md "Time").
 *
 *   -> POST /device/v1/time        (no authentication: anyone may ask the time)
 *        { nonce }                 16 to 64 fresh random bytes, base64url
 *   <- 200 { statement, chain }    statement: JWS typ trustlink-time+jws over { v: 1, nonce, time }
 *                                  chain: the signer's certificate first, up to (not incl.) the root
 *
 * The agent checks `chain` up to its pinned root, verifies the statement with the leaf's key
 * (time/time-statement.ts), and raises its persisted time floor; it never lowers it.
 */
import { z } from 'zod';
import { deviceNonceSchema } from '../time/time-statement.js';
import { derSchema } from './common-schemas.js';

export const timeRequestSchema = z.strictObject({ nonce: deviceNonceSchema });
export type TimeRequest = z.infer<typeof timeRequestSchema>;

export const timeResponseSchema = z.strictObject({
  statement: z
    .string()
    .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    .max(16 * 1024),
  chain: z.array(derSchema).min(1).max(4),
});
export type TimeResponse = z.infer<typeof timeResponseSchema>;
