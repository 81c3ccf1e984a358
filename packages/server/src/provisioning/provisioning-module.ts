import type { Logger } from 'pino';
import type { AuditService } from '../audit/audit-service.js';
import type { BatchService } from '../batches/batch-service.js';
import type { Db } from '../db/database.js';
import type { FirmwareModule } from '../firmware/firmware-module.js';
import type { JobLease } from '../jobs/job-leases.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import { NotFoundError } from '../lib/errors.js';
import type { InstancePki } from '../pki/instance-pki.js';
import type { Pki } from '../pki/pki-module.js';
import { createProvisioningJobs } from './provisioning-jobs.js';
import { createProvisioningRepo } from './provisioning-repo.js';
import { createProvisioningRuns } from './provisioning-run-service.js';
import { createProvisioningService } from './provisioning-service.js';

export interface ProvisioningModuleDeps {
  db: Db;
  audit: AuditService;
  keystore: KeyStore;
  instancePki: Pick<InstancePki, 'root'>;
  pki: Pick<Pki, 'signingKeys'>;
  batches: BatchService;
  firmware: FirmwareModule;
  config: { publicHostname: string; devicePort: number; provisioningRunExpiryMinutes: number };
  now: () => Date;
  log?: Pick<Logger, 'warn' | 'info'>;
  /** Runs the abandoned-run sweep on one replica of several (jobs/job-leases.ts). */
  lease?: JobLease;
}

const orUndefined = <T>(p: Promise<T>) =>
  p.catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  });

/** The device API's URL as devices reach it (443 is left out, as a browser would). */
export function deviceUrlOf(config: { publicHostname: string; devicePort: number }): string {
  const port = config.devicePort === 443 ? '' : `:${config.devicePort}`;
  return `https://${config.publicHostname}${port}`;
}

/**
 * The provisioning domain wired once: tasks and their runs. It registers with the firmware and
 * batch domains so that a firmware or batch a task uses cannot be deleted from under it.
 */
export function createProvisioning(deps: ProvisioningModuleDeps) {
  const { db, audit, keystore, batches, firmware, now } = deps;
  const repo = createProvisioningRepo(db.kysely);
  // The configured port, or the one bound when 0 asked for any (tests): set by serve.
  let devicePort = deps.config.devicePort;
  const tasks = createProvisioningService({
    db,
    repo,
    audit,
    now,
    refs: {
      firmware: (i, id) => orUndefined(firmware.catalog.get(i, id)),
      batch: (i, id) => batches.find(i, id),
      signingKey: (i, id) => orUndefined(deps.pki.signingKeys.get(i, id)),
    },
  });
  const runs = createProvisioningRuns({
    db,
    repo,
    tasks,
    audit,
    keystore,
    batches,
    now,
    runExpiryMs: deps.config.provisioningRunExpiryMinutes * 60_000,
    deviceUrl: () => deviceUrlOf({ publicHostname: deps.config.publicHostname, devicePort }),
    rootDer: async (i) => (await deps.instancePki.root(i)).der,
    async imageOf(i, id) {
      const file = await firmware.catalog.image(i, id);
      const parts: Buffer[] = [];
      for await (const p of await file.open()) parts.push(p as Buffer);
      return Buffer.concat(parts);
    },
  });
  firmware.catalog.usage.register('provisioning', tasks.usersOfFirmware);
  batches.usage.register('provisioning', tasks.usersOfBatch);
  const jobs = createProvisioningJobs({ runs, log: deps.log, lease: deps.lease });
  return {
    tasks,
    runs,
    /** The abandoned-run sweep; serve starts it, the runtime stops it. */
    jobs,
    /** Tells the config blob the device port actually bound (when configured as 0). */
    bindDevicePort(port: number) {
      if (deps.config.devicePort === 0) devicePort = port;
    },
  };
}
export type ProvisioningModule = ReturnType<typeof createProvisioning>;
