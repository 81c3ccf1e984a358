/**
 * Actions recorded under another name before a rename. Stored entries are never rewritten
 * (the chain's MAC covers the action), so a log keeps the old names for good; a filter by the
 * new name must still find them.
 *
 * Enrolment tokens were audited as `token.create` / `token.delete`, the names of API tokens'
 * actions; since the rename they are `enrolment-token.*`. An old enrolment token's creation
 * is told from an API token's by the batch in its details (API tokens have none); API tokens
 * are revoked, never deleted, so every old `token.delete` was an enrolment token's.
 */
export const RENAMED_ACTIONS: Readonly<
  Record<string, readonly { action: string; detailsKey?: string }[]>
> = {
  'enrolment-token.create': [{ action: 'token.create', detailsKey: 'batchId' }],
  'enrolment-token.delete': [{ action: 'token.delete' }],
};

/**
 * The stored names an action filter matches: the action itself and its old names, each with
 * the details key an entry must have (as the JSON text the log stores, `"key":`).
 */
export function storedNamesOf(action: string): { action: string; detailsLike?: string }[] {
  return [
    { action },
    ...(RENAMED_ACTIONS[action] ?? []).map((o) => ({
      action: o.action,
      detailsLike: o.detailsKey ? `%"${o.detailsKey}":%` : undefined,
    })),
  ];
}
