import type { AuditService } from '../audit/audit-service.js';
import type { Db } from '../db/database.js';
import type { DeviceLifecycleRepo } from '../devices/device-lifecycle-repo.js';
import type { ChallengeService } from './challenge-service.js';
import type { RenewalService } from './renewal-service.js';
import type { JobLease } from '../jobs/job-leases.js';

export interface LifecycleJobsDeps {
  db: Db;
  lifecycle: Pick<DeviceLifecycleRepo, 'dueForExpiry' | 'dueForRenewal' | 'markExpired'>;
  renewal: Pick<RenewalService, 'autoRenew'>;
  audit: Pick<AuditService, 'record'>;
  challenges: Pick<ChallengeService, 'purgeExpired'>;
  sessions: { purgeExpired(): Promise<number> };
  now?: () => Date;
  log?: { warn(obj: object, msg: string): void };
  intervalMs?: number;
  /** Devices handled per kind and run; the next run takes the rest. */
  batchSize?: number;
  /** Runs the timer's work only on the replica holding the lease (all of it when absent). */
  lease?: JobLease;
}

export interface LifecycleRun {
  renewed: number;
  expired: number;
  purgedNonces: number;
  purgedSessions: number;
}

/**
 * The device lifecycle on an in-process timer: auto-renewal of certificates that are due (for
 * policies that say so), marking devices whose certificate ran out as expired (they may still
 * renew with a fresh proof within the policy's grace period), and forgetting used nonces and
 * sessions that have expired. Every step is conditional on the state it expects, so two
 * processes running it at once do each thing once.
 */
export function createLifecycleJobs(deps: LifecycleJobsDeps) {
  const now = deps.now ?? (() => new Date());
  const size = deps.batchSize ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<LifecycleRun> | undefined;

  async function step<T>(what: string, fn: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      deps.log?.warn({ err }, `device lifecycle: ${what} failed; will retry`);
      return fallback;
    }
  }

  async function renewDue(): Promise<number> {
    let renewed = 0;
    for (const c of await deps.lifecycle.dueForRenewal(now().toISOString(), size)) {
      // One device's failure (e.g. its policy forbids the key type now) must not stop the rest.
      if (await step(`auto-renewal of ${c.id}`, () => deps.renewal.autoRenew(c), false)) renewed++;
    }
    return renewed;
  }

  async function expireDue(): Promise<number> {
    const t = now().toISOString();
    let expired = 0;
    for (const d of await deps.lifecycle.dueForExpiry(t, size)) {
      const done = await deps.db.kysely.transaction().execute(async (tx) => {
        if (!(await deps.lifecycle.markExpired(d.instance_id, d.id, t, tx))) return false;
        await deps.audit.record(
          {
            instanceId: d.instance_id,
            actor: { type: 'system', name: 'lifecycle' },
            action: 'device.expire',
            target: { type: 'device', id: d.id },
            result: 'ok',
            details: { certificateExpiredAt: d.cert_not_after },
          },
          tx,
        );
        return true;
      });
      if (done) expired++;
    }
    return expired;
  }

  async function runOnce(): Promise<LifecycleRun> {
    if (running) return running;
    running = (async () => ({
      // Renewal first: a certificate due and about to run out is renewed, not expired.
      renewed: await step('auto-renewal', renewDue, 0),
      expired: await step('expiry', expireDue, 0),
      purgedNonces: await step('nonce purge', () => deps.challenges.purgeExpired(), 0),
      purgedSessions: await step('session purge', () => deps.sessions.purgeExpired(), 0),
    }))();
    try {
      return await running;
    } finally {
      running = undefined;
    }
  }

  return {
    runOnce,
    start() {
      if (timer) return;
      const tick = () => (deps.lease ? deps.lease('device-lifecycle', runOnce) : runOnce());
      timer = setInterval(() => void tick().catch(() => undefined), deps.intervalMs ?? 60_000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
export type LifecycleJobs = ReturnType<typeof createLifecycleJobs>;
