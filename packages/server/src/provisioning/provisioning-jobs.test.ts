import { describe, expect, it } from 'vitest';
import type { JobLease } from '../jobs/job-leases.js';
import { createProvisioningJobs } from './provisioning-jobs.js';

describe('provisioning jobs', () => {
  it('ok/the sweep runs under the provisioning lease, and not where another replica holds it', async () => {
    let sweeps = 0;
    const runs = { abandonStale: async () => (sweeps++, 2) };
    const asked: string[] = [];
    let mine = true;
    const lease: JobLease = async (name, fn) => {
      asked.push(name);
      return mine ? fn() : undefined;
    };
    const jobs = createProvisioningJobs({ runs, lease, intervalMs: 60_000 });
    jobs.start();
    await jobs.stop();
    expect(asked).toEqual(['provisioning']);
    expect(sweeps).toBe(1);
    mine = false;
    jobs.start();
    await jobs.stop();
    expect(asked).toEqual(['provisioning', 'provisioning']);
    expect(sweeps).toBe(1);
  });

  it('fail/a sweep that throws is logged and retried next time, not thrown', async () => {
    const warned: unknown[] = [];
    const jobs = createProvisioningJobs({
      runs: {
        abandonStale: () => Promise.reject(new Error('database unreachable')),
      },
      log: { warn: (o: unknown) => void warned.push(o), info: () => undefined },
    });
    expect(await jobs.runOnce()).toEqual({ abandoned: 0 });
    expect(warned).toHaveLength(1);
  });
});
