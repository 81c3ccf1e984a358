import type { Executor } from '../db/database.js';
import type { ThrottleState } from './throttle-fns.js';

/** Sign-in failure counters per account and per source address. */
export function createThrottleRepo(db: Executor) {
  return {
    async find(
      instanceId: string,
      scope: string,
      subject: string,
      tx: Executor = db,
    ): Promise<ThrottleState | undefined> {
      const r = await tx
        .selectFrom('auth_throttle')
        .select(['failures', 'last_failure_at', 'blocked_until'])
        .where('instance_id', '=', instanceId)
        .where('scope', '=', scope)
        .where('subject', '=', subject)
        .executeTakeFirst();
      return r
        ? {
            failures: Number(r.failures),
            lastFailureAt: r.last_failure_at,
            blockedUntil: r.blocked_until,
          }
        : undefined;
    },
    async save(
      instanceId: string,
      scope: string,
      subject: string,
      s: ThrottleState,
      tx: Executor = db,
    ): Promise<void> {
      const values = {
        failures: s.failures,
        last_failure_at: s.lastFailureAt,
        blocked_until: s.blockedUntil,
      };
      await tx
        .insertInto('auth_throttle')
        .values({ instance_id: instanceId, scope, subject, ...values })
        .onConflict((oc) => oc.columns(['instance_id', 'scope', 'subject']).doUpdateSet(values))
        .execute();
    },
    /** Drops counters whose last failure is older than `before` (they would restart anyway). */
    async deleteStale(instanceId: string, before: string, tx: Executor = db) {
      await tx
        .deleteFrom('auth_throttle')
        .where('instance_id', '=', instanceId)
        .where('last_failure_at', '<', before)
        .where((eb) => eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<', before)]))
        .execute();
    },
    async clear(instanceId: string, scope: string, subject: string, tx: Executor = db) {
      await tx
        .deleteFrom('auth_throttle')
        .where('instance_id', '=', instanceId)
        .where('scope', '=', scope)
        .where('subject', '=', subject)
        .execute();
    },
  };
}
export type ThrottleRepo = ReturnType<typeof createThrottleRepo>;
