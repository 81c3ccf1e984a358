/**
 * Why registering a device ID on the platform failed. Each class maps to one exit code
 * (commands/exit-codes.ts), so a line script can tell "retry later" from "get a new credential".
 */

/** The platform could not be reached or answered with a server error: retry later. */
export class PlatformUnreachableError extends Error {
  override name = 'PlatformUnreachableError';
}

/** The platform's TLS certificate does not chain to the pinned root (or names another host). */
export class PlatformUntrustedError extends Error {
  override name = 'PlatformUntrustedError';
}

/** The manufacturing credential is unknown, deleted or expired. */
export class CredentialRefusedError extends Error {
  override name = 'CredentialRefusedError';
}

/** The manufacturing credential has registered as many devices as it may. */
export class CredentialUsedUpError extends Error {
  override name = 'CredentialUsedUpError';
}

/** The device ID is already registered in another batch. */
export class DeviceInOtherBatchError extends Error {
  override name = 'DeviceInOtherBatchError';
}
