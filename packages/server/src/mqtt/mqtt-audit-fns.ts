import type { AuditEvent } from '../audit/audit-types.js';
import type { HubClient } from '../hubs/hub-directory.js';

/**
 * Keeps broker events from flooding the audit log: one entry per key (a client and what
 * happened) per `perKeyMs`, and at most `maxPerWindow` entries per `windowMs` in all (a
 * fleet reconnecting after an outage). What is held back is counted and reported in the
 * next entry for that key, so the log says how many events it summarises.
 */
export function createAuditThrottle(opts: {
  perKeyMs: number;
  windowMs: number;
  maxPerWindow: number;
  now: () => number;
}) {
  const last = new Map<string, { at: number; held: number }>();
  let windowStart = 0;
  let inWindow = 0;
  let heldOverall = 0;

  function prune(now: number) {
    for (const [k, v] of last) if (now - v.at >= opts.perKeyMs && v.held === 0) last.delete(k);
  }

  return {
    /** Whether to record an event under `key` now, and how many were held back before it. */
    admit(
      key: string,
    ): { record: false } | { record: true; heldBack: number; heldOverall: number } {
      const now = opts.now();
      if (now - windowStart >= opts.windowMs) {
        windowStart = now;
        inWindow = 0;
        if (last.size > 10_000) prune(now);
      }
      const seen = last.get(key);
      if ((seen && now - seen.at < opts.perKeyMs) || inWindow >= opts.maxPerWindow) {
        if (seen) seen.held++;
        else last.set(key, { at: now - opts.perKeyMs, held: 1 });
        heldOverall++;
        return { record: false };
      }
      inWindow++;
      const heldBack = seen?.held ?? 0;
      last.set(key, { at: now, held: 0 });
      const overall = heldOverall;
      heldOverall = 0;
      return { record: true, heldBack, heldOverall: overall };
    },
  };
}
export type AuditThrottle = ReturnType<typeof createAuditThrottle>;

/** The audit actor of a hub client: the device, or for tools the tool by its client ID. */
export function actorOf(who: HubClient): AuditEvent['actor'] {
  return who.kind === 'device'
    ? { type: 'device', id: who.subjectId, name: who.subjectId }
    : { type: 'system', id: who.subjectId, name: `mqtt tool ${who.clientId}` };
}
