/**
 * Says which records of another domain use a record, as short human descriptions (e.g.
 * `provisioning task "Line 1"`); an empty list when none does.
 */
export type UsageChecker = (instanceId: string, id: string) => Promise<string[]>;

/**
 * Where domains that refer to a record (a firmware, a batch) register a check, so the owning
 * domain can refuse a delete with a clear message without knowing their tables.
 */
export function createUsageRegistry() {
  const checkers = new Map<string, UsageChecker>();
  return {
    /** Registers a domain's check under its name; returns a function that removes it. */
    register(domain: string, checker: UsageChecker): () => void {
      if (checkers.has(domain))
        throw new Error(`a usage check for ${domain} is already registered`);
      checkers.set(domain, checker);
      return () => void checkers.delete(domain);
    },
    /** Every use of a record, across the registered domains. */
    async usesOf(instanceId: string, id: string): Promise<string[]> {
      const all = await Promise.all([...checkers.values()].map((c) => c(instanceId, id)));
      return all.flat();
    },
  };
}
export type UsageRegistry = ReturnType<typeof createUsageRegistry>;
