/**
 * Errors of the key stores. Each class maps to one CLI exit code (see commands/exit-codes.ts),
 * so a production-line script can tell "fix the config" from "the TPM is not answering".
 */

/** The key store cannot be reached: no TPM, module not loadable, token missing, PIN refused. */
export class KeyStoreUnavailableError extends Error {
  override name = 'KeyStoreUnavailableError';
}

/** There is no identity key yet (run `trustlink-agent manufacture`). */
export class NoIdentityKeyError extends Error {
  override name = 'NoIdentityKeyError';
  constructor(message = 'no identity key yet: run `trustlink-agent manufacture` first') {
    super(message);
  }
}

/**
 * The key store holds something in the identity key's place that the agent will neither use
 * nor replace (a key without the required attributes, duplicates, a key file others can read).
 */
export class KeyStoreRefusedError extends Error {
  override name = 'KeyStoreRefusedError';
}
