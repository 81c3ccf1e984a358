/**
 * Errors a device may receive: RFC 9457 problem details (`application/problem+json`).
 *
 *   <- 400 validation-failed     the body or headers break the schema (errors[] says where)
 *   <- 401 unauthorized          not authenticated; no reason is given (the audit log has it)
 *   <- 403 device-revoked        stop: the device is revoked and will never be served again
 *   <- 404 not-found             unknown update (or not this device's)
 *   <- 409 challenge-replayed    the challenge nonce was used or has expired: fetch a new one
 *   <- 413 payload-too-large     body over 64 KiB
 *   <- 429 too-many-requests     wait Retry-After seconds
 *   <- 503 service-unavailable   try again later
 */
import { z } from 'zod';
import { PROBLEM_TYPES, type ProblemType } from '../protocol-constants.js';

/** Base of the `type` URIs (the server writes `<base><type>`). */
export const PROBLEM_TYPE_BASE = 'https://trustlink.dev/problems/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The HTTP status that goes with each device problem type. */
export const PROBLEM_STATUS: Record<ProblemType, number> = {
  'validation-failed': 400,
  unauthorized: 401,
  'device-revoked': 403,
  'not-found': 404,
  'challenge-replayed': 409,
  'payload-too-large': 413,
  'too-many-requests': 429,
  'service-unavailable': 503,
};

/** A problem document; extra members (errors, requestId) are allowed, as RFC 9457 says. */
export const problemSchema = z.looseObject({
  type: z.string().min(1),
  title: z.string().optional(),
  status: z.int().min(400).max(599),
  detail: z.string().optional(),
  instance: z.string().optional(),
  requestId: z.string().optional(),
  errors: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof problemSchema>;

/** The short problem type of a problem document, if it is one of ours. */
export function problemTypeOf(problem: Pick<Problem, 'type'>): ProblemType | undefined {
  if (!problem.type.startsWith(PROBLEM_TYPE_BASE)) return undefined;
  const short = problem.type.slice(PROBLEM_TYPE_BASE.length);
  return (Object.values(PROBLEM_TYPES) as string[]).includes(short)
    ? (short as ProblemType)
    : undefined;
}
