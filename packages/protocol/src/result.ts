/**
 * What every pure check in this package returns instead of throwing: either `ok: true` with its
 * findings, or `ok: false` with a stable machine `reason` (for tests, metrics and the audit log)
 * and a human `detail`. Devices are never shown either; the server maps them to a bare status.
 */
export type Result<T extends object, R extends string> =
  ({ ok: true } & T) | { ok: false; reason: R; detail: string };

/** Builds the failure half of a {@link Result}. */
export function fail<R extends string>(
  reason: R,
  detail: string,
): { ok: false; reason: R; detail: string } {
  return { ok: false, reason, detail };
}
