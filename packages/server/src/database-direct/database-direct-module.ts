import type { Logger } from 'pino';
import type { AuditService } from '../audit/audit-service.js';
import type { Fleet } from '../batches/fleet.js';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { createDeviceRepo, type Device } from '../devices/device-repo.js';
import type { DeviceAudit } from '../enrolment/device-audit.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import { createOutboundGuard, type Lookup } from '../lib/outbound-guard.js';
import type { InstancePki } from '../pki/instance-pki.js';
import type { SecretBox } from '../secrets/secret-box.js';
import type { DatabaseDirectRepo } from './database-direct-repo.js';
import { createDatabaseDirectService } from './database-direct-service.js';
import { createDatabaseTokenService } from './database-token-service.js';
import { createDeviceDataRepo } from './device-data-repo.js';
import { createDeviceDataService } from './device-data-service.js';
import { createTargetResolver } from './target-resolver.js';

export interface DatabaseDirectModuleDeps {
  config: Config;
  /** The platform's database URL in force (never a target). */
  databaseUrl: string;
  db: Db;
  repo: DatabaseDirectRepo;
  box: SecretBox;
  audit: AuditService;
  deviceAudit: DeviceAudit;
  keystore: KeyStore;
  pki: InstancePki;
  fleet: Fleet;
  log: Logger;
  lookup?: Lookup;
  now: () => Date;
}

/**
 * Database direct (PRODUCT.md H7) wired together: connection records with their signing keys,
 * device tokens, the enrolment answer's `database` block, and the data endpoint that writes
 * device records into PostgreSQL and MariaDB.
 */
export function createDatabaseDirectModule(deps: DatabaseDirectModuleDeps) {
  const { config, repo, fleet, keystore, now } = deps;
  const log = deps.log.child({ component: 'database-direct' });
  const devices = createDeviceRepo(deps.db.kysely);
  const data = createDeviceDataRepo();
  const targets = createTargetResolver({
    // The own-database check is the resolver's (per database, not per server).
    guard: createOutboundGuard({
      allowList: config.outboundAllowList,
      databaseUrl: '',
      lookup: deps.lookup,
    }),
    platformDatabaseUrl: deps.databaseUrl,
    lookup: deps.lookup,
  });
  let devicePort = config.devicePort;

  async function policyOf(instanceId: string, device: Device) {
    const batch = await fleet.batches.find(instanceId, device.batchId);
    return batch
      ? fleet.policies.get(instanceId, batch.policyId).catch(() => undefined)
      : undefined;
  }

  const connections = createDatabaseDirectService({
    db: deps.db,
    repo,
    box: deps.box,
    audit: deps.audit,
    keystore,
    targets,
    async usedBy(instanceId, id) {
      const p = (await fleet.policies.list(instanceId)).find((x) => x.databaseConnectionId === id);
      return p ? `policy "${p.name}"` : undefined;
    },
    onChange: (instanceId, id) => void data.forget(`${instanceId}/${id}`),
    log,
    now,
  });

  const tokens = createDatabaseTokenService({
    repo,
    keystore,
    policyOf,
    rootDer: async (i) => (await deps.pki.root(i)).der,
    deviceBaseUrl: () => `https://${config.publicHostname}:${devicePort}`,
    now,
  });

  const writes = createDeviceDataService({
    repo,
    keystore,
    secretsOf: connections.secretsOf,
    targets,
    data,
    devices,
    policyOf,
    audit: deps.deviceAudit,
    log,
    now,
  });

  return {
    connections,
    tokens,
    writes,
    /** The port the device API listens on, once bound (the data endpoint's URL names it). */
    bindDevicePort(port: number): void {
      devicePort = port;
    },
    async stop(): Promise<void> {
      await data.close();
    },
  };
}
export type DatabaseDirectModule = ReturnType<typeof createDatabaseDirectModule>;
