/**
 * Says which records of a domain use a key, as short human descriptions (e.g. `batch "Line 1"`);
 * an empty list when none does.
 */
export type KeyUsageChecker = (instanceId: string, keyId: string) => Promise<string[]>;

/**
 * Where other domains (batches, firmware) register a check that a key is in use, so the PKI
 * can refuse to delete it without knowing those domains' tables.
 */
export function createKeyUsageRegistry() {
  const checkers = new Map<string, KeyUsageChecker>();
  return {
    /** Registers a domain's check under its name; returns a function that removes it. */
    register(domain: string, checker: KeyUsageChecker): () => void {
      if (checkers.has(domain))
        throw new Error(`a key usage check for ${domain} is already registered`);
      checkers.set(domain, checker);
      return () => void checkers.delete(domain);
    },
    /** Every use of a key, across the registered domains. */
    async usesOf(instanceId: string, keyId: string): Promise<string[]> {
      const all = await Promise.all(
        [...checkers.values()].map((check) => check(instanceId, keyId)),
      );
      return all.flat();
    },
  };
}
export type KeyUsageRegistry = ReturnType<typeof createKeyUsageRegistry>;
