import type { Logger } from 'pino';
import type { CrlService } from './crl-service.js';
import type { IssuingCaService } from './issuing-ca-service.js';
import type { JobLease } from '../jobs/job-leases.js';
import { createPeriodicJob } from '../jobs/periodic-job.js';

export interface PkiJobsDeps {
  crl: Pick<CrlService, 'rebuildDue'>;
  issuingCas: Pick<IssuingCaService, 'renewDue'>;
  log?: Pick<Logger, 'warn'>;
  /** How often the jobs run. */
  intervalMs?: number;
  /** Runs the timer's work only on the replica holding the lease (all of it when absent). */
  lease?: JobLease;
}

export const PKI_JOB_INTERVAL_MS = 60_000;

/**
 * The PKI's background work on an in-process timer: renewing issuing CAs that are due and
 * refreshing CRLs before their nextUpdate. With several replicas the timer runs them on the
 * one holding the `pki` lease; both jobs are also idempotent, so an overlap around a lease
 * handover (or a test calling `runOnce` with an injected clock) does no harm.
 */
export function createPkiJobs(deps: PkiJobsDeps) {
  async function runOnce(): Promise<{ renewed: number; crls: number }> {
    let renewed = 0;
    try {
      renewed = (await deps.issuingCas.renewDue()).length;
    } catch (err) {
      deps.log?.warn({ err }, 'issuing CA renewal failed; will retry');
    }
    let crls = 0;
    try {
      crls = await deps.crl.rebuildDue();
    } catch (err) {
      deps.log?.warn({ err }, 'CRL refresh failed; will retry');
    }
    return { renewed, crls };
  }

  const timer = createPeriodicJob({
    name: 'pki',
    intervalMs: deps.intervalMs ?? PKI_JOB_INTERVAL_MS,
    run: runOnce,
    lease: deps.lease,
  });
  return { runOnce, start: timer.start, stop: timer.stop };
}
export type PkiJobs = ReturnType<typeof createPkiJobs>;
