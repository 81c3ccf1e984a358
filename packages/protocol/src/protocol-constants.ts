/** Version of the device API; it is part of every path (`/device/v1`). */
export const PROTOCOL_VERSION = 1;
export const DEVICE_API_PREFIX = `/device/v${PROTOCOL_VERSION}`;
/** Device API bodies larger than this are refused (413). */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Problem types a device may receive. A device learns only what it can act on; the audit log
 * keeps the full reason.
 */
export const PROBLEM_TYPES = {
  unauthorized: 'unauthorized',
  deviceRevoked: 'device-revoked',
  notFound: 'not-found',
  challengeReplayed: 'challenge-replayed',
  tooManyRequests: 'too-many-requests',
  validationFailed: 'validation-failed',
  payloadTooLarge: 'payload-too-large',
  serviceUnavailable: 'service-unavailable',
} as const;
export type ProblemType = (typeof PROBLEM_TYPES)[keyof typeof PROBLEM_TYPES];
