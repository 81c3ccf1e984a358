import { randomUUID } from 'node:crypto';
import type { Executor } from '../db/database.js';
import { createJobLeaseRepo } from './job-lease-repo.js';

/**
 * Runs `fn` only if this process holds the job's lease, and returns its result; returns
 * undefined (the job was skipped) when another replica holds it.
 */
export type JobLease = <T>(name: string, fn: () => Promise<T>) => Promise<T | undefined>;

/**
 * A lease outlives a few runs of the jobs it covers (they tick every minute), so its holder
 * keeps it; a replica that stops hands its jobs over within this time.
 */
export const JOB_LEASE_TTL_MS = 5 * 60_000;

export interface JobLeasesDeps {
  db: Executor;
  /** This process's name in the lease table; a random one by default. */
  holder?: string;
  /**
   * How long a lease lasts without being extended: a replica that stops (crash, network
   * split) hands its jobs over after this. Longer than a job's interval, so the holder keeps
   * it from run to run.
   */
  ttlMs: number;
  now?: () => Date;
}

/**
 * Background jobs that must run once across replicas (certificate renewal, expiry sweeps,
 * CRL refresh, reconciling outside brokers) run under a lease in the database: whichever
 * replica takes it runs them, the others skip, and when the holder stops another takes over
 * once the lease expires. The jobs stay idempotent, so the rare overlap around a handover
 * does no harm; the lease is what keeps a fleet of replicas from doing everything N times.
 */
export function createJobLeases(deps: JobLeasesDeps) {
  const repo = createJobLeaseRepo(deps.db);
  const holder = deps.holder ?? `replica-${randomUUID()}`;
  const now = deps.now ?? (() => new Date());
  const held = new Set<string>();

  const run: JobLease = async (name, fn) => {
    const t = now();
    const mine = await repo.tryAcquire(
      name,
      holder,
      t.toISOString(),
      new Date(t.getTime() + deps.ttlMs).toISOString(),
    );
    if (!mine) {
      held.delete(name);
      return undefined;
    }
    held.add(name);
    return fn();
  };

  return {
    holder,
    run,
    /** Gives up every lease this process holds (on shutdown). */
    async releaseAll(): Promise<void> {
      for (const name of held) await repo.release(name, holder);
      held.clear();
    },
    holderOf: (name: string) => repo.holderOf(name),
  };
}
export type JobLeases = ReturnType<typeof createJobLeases>;
