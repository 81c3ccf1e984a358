/**
 * Why registering a device ID on the platform failed. Each class maps to one exit code
 * (commands/exit-codes.ts), so a line script can tell "retry later" from "get a new credential".
 */

// Reaching the platform fails the same way for every command (run shares them), so both
// commands map the same errors to the same exit codes.
export { PlatformUnreachableError, PlatformUntrustedError } from '../run/run-errors.js';

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
