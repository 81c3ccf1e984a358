import { z } from 'zod';
import type { Signer } from '../identity/key-types.js';
import { type JwsFailure, verifyJws, signJws } from '../jws/jws-compact.js';
import { isoTimeSchema } from '../messages/common-schemas.js';
import { type Result, fail } from '../result.js';

/**
 * Signed time (PROTOCOL.md "Time"): the instance signs `{ v: 1, nonce, time }` as a JWS with typ
 * `trustlink-time+jws`, echoing the device's fresh nonce so an old statement cannot be replayed.
 * The agent checks the signer's certificate chain up to its pinned root itself, then calls
 * {@link verifyTimeStatement} with the leaf's public key and its persisted time floor.
 */
export const TIME_JWS_TYPE = 'trustlink-time+jws';

/** A device nonce: 16 to 64 random bytes, base64url. */
export const deviceNonceSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{22,86}$/, 'must be 16 to 64 bytes in base64url');

export const timeStatementSchema = z.strictObject({
  v: z.literal(1),
  nonce: deviceNonceSchema,
  time: isoTimeSchema,
});
export type TimeStatement = z.infer<typeof timeStatementSchema>;

/** Signs a time statement for the device nonce (server side; `sign` is the key store). */
export async function signTimeStatement(
  statement: { nonce: string; time: Date },
  signer: Signer & { kid: string },
): Promise<string> {
  const payload: TimeStatement = {
    v: 1,
    nonce: statement.nonce,
    time: statement.time.toISOString(),
  };
  if (!timeStatementSchema.safeParse(payload).success)
    throw new RangeError('nonce must be 16 to 64 bytes in base64url');
  return signJws(payload, { kid: signer.kid, typ: TIME_JWS_TYPE, signer });
}

export type TimeFailure = JwsFailure | 'wrong-nonce' | 'before-floor';

/**
 * Verifies a time statement: signature by `publicKeySpki`, the nonce the device sent, and a time
 * not earlier than the device's persisted floor (time never goes backwards on the device).
 */
export function verifyTimeStatement(
  jws: string,
  options: { publicKeySpki: Uint8Array; nonce: string; floor?: Date; kid?: string },
): Result<{ time: Date; kid: string }, TimeFailure> {
  const verified = verifyJws(jws, {
    publicKeySpki: options.publicKeySpki,
    typ: TIME_JWS_TYPE,
    ...(options.kid !== undefined ? { kid: options.kid } : {}),
  });
  if (!verified.ok) return verified;
  const parsed = timeStatementSchema.safeParse(verified.payload);
  if (!parsed.success) return fail('bad-payload', 'time statement payload is malformed');
  if (parsed.data.nonce !== options.nonce)
    return fail('wrong-nonce', 'time statement answers another nonce');
  const time = new Date(parsed.data.time);
  if (options.floor && time.getTime() < options.floor.getTime()) {
    return fail(
      'before-floor',
      `signed time ${parsed.data.time} is before the floor ${options.floor.toISOString()}`,
    );
  }
  return { ok: true, time, kid: verified.header.kid };
}
