import { ConfigError } from '../config/agent-config.js';
import {
  KeyStoreRefusedError,
  KeyStoreUnavailableError,
  NoIdentityKeyError,
} from '../keystore/key-store-errors.js';
import {
  CredentialRefusedError,
  CredentialUsedUpError,
  DeviceInOtherBatchError,
  PlatformUnreachableError,
  PlatformUntrustedError,
} from '../manufacturing/registration-errors.js';

/**
 * Exit codes of `trustlink-agent`, stable so production-line scripts can act on them
 * (docs/agent.md lists them).
 */
export const EXIT = {
  /** Done (for manufacture: key created, or it already existed: see standard error). */
  ok: 0,
  /** Anything unexpected; standard error has the details. */
  failure: 1,
  /** The configuration file is missing or invalid (one line names the option). */
  config: 2,
  /** The key store cannot be reached: no TPM, module not loadable, token missing, PIN refused. */
  keyStoreUnavailable: 3,
  /** There is no identity key yet (`id`, `csr` before `manufacture`). */
  noIdentity: 4,
  /** The key store holds a key in the identity's place that the agent refuses to use or replace. */
  keyStoreRefused: 5,
  /** manufacture, run --once: the platform could not be reached or had a server error; retry later. */
  platformUnreachable: 10,
  /** manufacture, run --once: the platform's certificate does not chain to the pinned root. */
  platformUntrusted: 11,
  /** manufacture: the manufacturing credential is unknown, deleted or expired. */
  credentialRefused: 12,
  /** manufacture: the manufacturing credential has registered all the devices it may. */
  credentialUsedUp: 13,
  /** manufacture: the device ID is already registered in another batch. */
  deviceInOtherBatch: 14,
  /** run: the device is revoked; the agent stopped for good. */
  revoked: 15,
  /** Bad command line. */
  usage: 64,
} as const;

/** The exit code for an error that ended a command. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof ConfigError) return EXIT.config;
  if (err instanceof KeyStoreUnavailableError) return EXIT.keyStoreUnavailable;
  if (err instanceof NoIdentityKeyError) return EXIT.noIdentity;
  if (err instanceof KeyStoreRefusedError) return EXIT.keyStoreRefused;
  if (err instanceof PlatformUnreachableError) return EXIT.platformUnreachable;
  if (err instanceof PlatformUntrustedError) return EXIT.platformUntrusted;
  if (err instanceof CredentialRefusedError) return EXIT.credentialRefused;
  if (err instanceof CredentialUsedUpError) return EXIT.credentialUsedUp;
  if (err instanceof DeviceInOtherBatchError) return EXIT.deviceInOtherBatch;
  return EXIT.failure;
}
