import type { Logger } from 'pino';
import type { JobLease } from '../jobs/job-leases.js';
import { createPeriodicJob } from '../jobs/periodic-job.js';
import type { ProvisioningRuns } from './provisioning-run-service.js';

export interface ProvisioningJobsDeps {
  runs: Pick<ProvisioningRuns, 'abandonStale'>;
  log?: Pick<Logger, 'warn' | 'info'>;
  /** How often the sweep runs. */
  intervalMs?: number;
  /** Runs the sweep only on the replica holding the lease (always when absent). */
  lease?: JobLease;
}

export const PROVISIONING_JOB_INTERVAL_MS = 60_000;

/**
 * The provisioning domain's background work on an in-process timer: ending as abandoned the
 * runs whose browser never came back. With several replicas it runs on the one holding the
 * `provisioning` lease; the sweep is idempotent, so an overlap at a handover does no harm.
 */
export function createProvisioningJobs(deps: ProvisioningJobsDeps) {
  async function runOnce(): Promise<{ abandoned: number }> {
    try {
      const abandoned = await deps.runs.abandonStale();
      if (abandoned > 0) deps.log?.info({ abandoned }, 'provisioning: abandoned runs ended');
      return { abandoned };
    } catch (err) {
      deps.log?.warn({ err }, 'provisioning: ending abandoned runs failed; will retry');
      return { abandoned: 0 };
    }
  }

  const timer = createPeriodicJob({
    name: 'provisioning',
    intervalMs: deps.intervalMs ?? PROVISIONING_JOB_INTERVAL_MS,
    run: runOnce,
    lease: deps.lease,
  });
  return { runOnce, start: timer.start, stop: timer.stop };
}
export type ProvisioningJobs = ReturnType<typeof createProvisioningJobs>;
