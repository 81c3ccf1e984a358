import type { JobLease } from './job-leases.js';

export interface PeriodicJobOptions {
  /** The lease's name: one replica at a time runs the job under it. */
  name: string;
  intervalMs: number;
  /** The job; it reports its own failures (a rejection is dropped, the next tick retries). */
  run: () => Promise<unknown>;
  /** Runs the job only on the replica holding the lease (every time when absent). */
  lease?: JobLease;
}

/**
 * A job run on an in-process timer: once at start, then every interval, never two runs of it
 * at once in this process (a tick that finds the last run still going is skipped), and under
 * the job's lease so that replicas do not all do it. `stop` waits for a run in progress.
 */
export function createPeriodicJob(opts: PeriodicJobOptions) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = (opts.lease ? opts.lease(opts.name, opts.run) : opts.run()).then(
      () => undefined,
      () => undefined,
    );
    void running.finally(() => (running = undefined));
  };
  return {
    start() {
      if (timer) return;
      tick();
      timer = setInterval(tick, opts.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
