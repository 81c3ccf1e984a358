/**
 * What can go wrong talking to the platform, sorted by what the daemon does about it: retry
 * with backoff (unreachable, overloaded), stop for good (revoked), or report and retry later
 * (an answer the agent cannot use).
 */

/** The platform could not be reached (refused, reset, timed out, DNS). Retry with backoff. */
export class PlatformUnreachableError extends Error {
  override name = 'PlatformUnreachableError';
}

/**
 * The server's certificate chain does not end at the pinned instance root (or names another
 * host, or is outside its validity): the agent sends it nothing.
 */
export class PlatformUntrustedError extends Error {
  override name = 'PlatformUntrustedError';
}

/** 403 device-revoked: the platform will never serve this device again. */
export class DeviceRevokedError extends Error {
  override name = 'DeviceRevokedError';
  constructor(message = 'the platform says this device is revoked') {
    super(message);
  }
}

/** Any other problem answer; `retryAfterSeconds` when the platform asked for a pause. */
export class PlatformProblemError extends Error {
  override name = 'PlatformProblemError';
  constructor(
    message: string,
    readonly status: number,
    readonly problemType: string | undefined,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** Asked for something that needs a certificate before the device has enrolled. */
export class NotEnrolledError extends Error {
  override name = 'NotEnrolledError';
  constructor(message = 'the agent has not enrolled yet') {
    super(message);
  }
}
