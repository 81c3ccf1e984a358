import type { Db } from '../db/database.js';
import { TooManyRequestsError } from '../lib/errors.js';
import { afterFailure, retryAfterSeconds, type ThrottlePolicy } from './throttle-fns.js';
import { createThrottleRepo } from './throttle-repo.js';

export type ThrottleScope = 'account' | 'address';
export interface ThrottleSubject {
  scope: ThrottleScope;
  subject: string;
}

/**
 * Brute-force brakes for sign-in, kept in the database so every replica sees the same counts.
 * An account is keyed by its lower-cased username whether or not it exists, so the brake does
 * not reveal which accounts exist.
 */
export function createThrottleService(deps: {
  db: Db;
  now: () => Date;
  policies: Record<ThrottleScope, ThrottlePolicy>;
}) {
  const { db, now, policies } = deps;
  const repo = createThrottleRepo(db.kysely);
  return {
    /** Seconds the caller must wait (the longest of the subjects); 0 if it may try now. */
    async waitSeconds(instanceId: string, subjects: ThrottleSubject[]): Promise<number> {
      let wait = 0;
      for (const s of subjects) {
        const state = await repo.find(instanceId, s.scope, s.subject);
        wait = Math.max(wait, retryAfterSeconds(state, now()));
      }
      return wait;
    },
    /** Throws 429 with Retry-After while any subject must wait. */
    async assertAllowed(instanceId: string, subjects: ThrottleSubject[]): Promise<void> {
      const wait = await this.waitSeconds(instanceId, subjects);
      if (wait > 0) {
        throw new TooManyRequestsError(
          `too many failed sign-in attempts; try again in ${wait} s`,
          wait,
        );
      }
    },
    async fail(instanceId: string, subjects: ThrottleSubject[]): Promise<void> {
      // Guessed usernames and passing addresses leave rows; sweep the ones that have lapsed.
      const oldest = Math.max(...Object.values(policies).map((p) => p.resetAfterSeconds));
      await repo.deleteStale(instanceId, new Date(now().getTime() - oldest * 1000).toISOString());
      for (const s of subjects) {
        await db.kysely.transaction().execute(async (tx) => {
          const state = await repo.find(instanceId, s.scope, s.subject, tx);
          await repo.save(
            instanceId,
            s.scope,
            s.subject,
            afterFailure(state, policies[s.scope], now()),
            tx,
          );
        });
      }
    },
    /** A full sign-in succeeded: the account's count starts again (the address's does not). */
    async succeed(instanceId: string, accountSubject: string): Promise<void> {
      await repo.clear(instanceId, 'account', accountSubject);
    },
  };
}
export type ThrottleService = ReturnType<typeof createThrottleService>;
