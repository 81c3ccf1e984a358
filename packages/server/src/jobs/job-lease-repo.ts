import type { Executor } from '../db/database.js';

/** The lease rows; one statement decides who holds a job, so two replicas cannot both win. */
export function createJobLeaseRepo(db: Executor) {
  return {
    /**
     * Takes or extends the lease of `name` for `holder` until `until`; true when `holder` has
     * it afterwards. It is taken when free, expired, or already this holder's.
     */
    async tryAcquire(name: string, holder: string, now: string, until: string): Promise<boolean> {
      const r = await db
        .insertInto('job_leases')
        .values({ name, holder, expires_at: until })
        .onConflict((oc) =>
          oc
            .column('name')
            .doUpdateSet({ holder, expires_at: until })
            .where((eb) =>
              eb.or([eb('job_leases.expires_at', '<', now), eb('job_leases.holder', '=', holder)]),
            ),
        )
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    /** Gives the lease up (on shutdown), so another replica need not wait for it to expire. */
    async release(name: string, holder: string): Promise<void> {
      await db
        .deleteFrom('job_leases')
        .where('name', '=', name)
        .where('holder', '=', holder)
        .execute();
    },
    async holderOf(name: string): Promise<{ holder: string; expiresAt: string } | undefined> {
      const r = await db
        .selectFrom('job_leases')
        .select(['holder', 'expires_at'])
        .where('name', '=', name)
        .executeTakeFirst();
      return r && { holder: r.holder, expiresAt: new Date(r.expires_at).toISOString() };
    },
  };
}
export type JobLeaseRepo = ReturnType<typeof createJobLeaseRepo>;
