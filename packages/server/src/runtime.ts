import { accessSync, constants, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { createAuditService, type AuditService } from './audit/audit-service.js';
import { createFleet, type Fleet } from './batches/fleet.js';
import { createFirmware, type FirmwareModule } from './firmware/firmware-module.js';
import { createDatabaseBlobStore } from './firmware/database-blob-store.js';
import { waitingUpdateIdOf } from './firmware/firmware-update-repo.js';
import {
  createFirmwareNotifier,
  FIRMWARE_UPDATE_ASSIGNED_TOPIC,
} from './firmware/firmware-notify.js';
import { createDeviceEvents, type DeviceEvents } from './devices/device-events.js';
import { createDeviceApi, type DeviceApiServices } from './enrolment/device-api.js';
import { createAccessServices, type AccessServices } from './auth/access-services.js';
import { ConfigError, effectiveDatabaseUrl, effectivePkiBaseUrl, type Config } from './config.js';
import { openDatabase, parseDatabaseUrl, type Db } from './db/database.js';
import { migrateToLatest } from './db/migrator.js';
import { takeStartupLock } from './db/startup-lock.js';
import { createInstanceRepo, type InstanceRecord } from './instances/instance-repo.js';
import { createInstanceCreation, firstStartState } from './instances/instance-creation-service.js';
import { createKeyRepo } from './keystore/keystore-repo.js';
import { createKeyStore } from './keystore/keystore-service.js';
import type { KeyBackend, KeyStore } from './keystore/keystore-types.js';
import { createPkcs11Backend } from './keystore/pkcs11-backend.js';
import { createSoftwareBackend } from './keystore/software-backend.js';
import { createCaRepo } from './pki/ca-repo.js';
import { createInstancePki, type InstancePki } from './pki/instance-pki.js';
import { pkiAuditTo } from './pki/pki-audit.js';
import { createPki, type Pki } from './pki/pki-module.js';
import { createJobLeases, JOB_LEASE_TTL_MS } from './jobs/job-leases.js';
import { pkiUrls } from './pki/pki-urls.js';
import { createOutboxRepo, type OutboxRepo } from './outbox/outbox-repo.js';
import { createOutboxWorker, type OutboxWorker } from './outbox/outbox-worker.js';
import { verifyMasterKeyCheck } from './secrets/master-key-check.js';
import {
  generateMasterKey,
  makeRing,
  masterKeyFileExists,
  readMasterKeyFile,
  removeMasterKeyFile,
  toMasterKey,
  writeMasterKeyFile,
  type MasterKeyRing,
} from './secrets/master-key.js';
import { createSecretBox, type SecretBox } from './secrets/secret-box.js';
import { createSetupService, type SetupService } from './setup/setup-service.js';
import { createHubRepo } from './hubs/hub-repo.js';
import { createHubsModule, type HubsModule } from './hubs/hubs-module.js';
import { createOutboundGuard } from './lib/outbound-guard.js';
import { createDatabaseDirectRepo } from './database-direct/database-direct-repo.js';
import {
  createDatabaseDirectModule,
  type DatabaseDirectModule,
} from './database-direct/database-direct-module.js';
import type { EventBus } from './bus/event-bus.js';
import { createMemoryBus } from './bus/event-bus.js';
import { createRedisBus } from './bus/redis-event-bus.js';
import { createReplicaRelay } from './bus/replica-relay.js';
import { createManufacturingRepo } from './manufacturing/manufacturing-repo.js';
import { createProvisioning, type ProvisioningModule } from './provisioning/provisioning-module.js';
import {
  createManufacturingService,
  type ManufacturingService,
} from './manufacturing/manufacturing-service.js';

export const DEFAULT_INSTANCE_NAME = 'default';

/** Everything a running server holds: opened once at start, closed once at stop. */
export interface Runtime {
  config: Config;
  db: Db;
  box: SecretBox;
  keystore: KeyStore;
  pki: InstancePki;
  setup: SetupService;
  /** The tamper-evident audit log every domain records into. */
  audit: AuditService;
  /** Users, sign-in, sessions, API tokens, first-run setup. */
  access: AccessServices;
  /** Issuing CAs, device certificates, CRLs, OCSP, signing keys and their background jobs. */
  pkiServices: Pki;
  /** The PKI listener's base URL as written into certificates; `bind` tells the bound port. */
  pkiEndpoint: { baseUrl(): string; bind(port: number): void };
  /** Intents for outside systems, written in the same transaction as the change. */
  outbox: OutboxRepo;
  /** Carries the outbox out; domains register their topics' handlers on it. */
  outboxWorker: OutboxWorker;
  /** Policies, batches and registered devices, auth certs and enrolment tokens. */
  fleet: Fleet;
  /** Device lifecycle events (enrolled, renewed, revoked), published after commit. */
  deviceEvents: DeviceEvents;
  /**
   * Enrolment and the device lifecycle: the device API and EST services, device list, detail
   * and revocation, and the lifecycle jobs (started by `serve`).
   */
  enrolment: DeviceApiServices;
  /** Firmware images, their signing and rollouts to batches, and the device side of updates. */
  firmware: FirmwareModule;
  /**
   * IoT hubs: records and tools, the embedded MQTT broker (started by serve), managed
   * Mosquitto brokers, status, and `hubConnectionFor` for enrolment answers.
   */
  hubs: HubsModule;
  /** Database-direct connections, device JWTs and the data endpoint's writes. */
  databaseDirect: DatabaseDirectModule;
  /** Manufacturing credentials and the production-line registration they allow. */
  manufacturing: ManufacturingService;
  /** Provisioning tasks and their runs (the console flashes devices over Web Serial). */
  provisioning: ProvisioningModule;
  /** Messages between replicas (Redis when configured, else this process alone). */
  bus: EventBus;
  instance: InstanceRecord;
  /** True when this start created the instance. */
  created: boolean;
  now: () => Date;
  close(): Promise<void>;
}

/** Checks the data directory is usable without creating it (a bad config changes nothing). */
function checkDataDir(dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory())
      throw new ConfigError(`data directory: ${dir} is not a directory`);
    try {
      accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch {
      throw new ConfigError(
        `data directory: cannot read and write ${dir} (check its owner and mode)`,
      );
    }
    return;
  }
  let parent = path.dirname(path.resolve(dir));
  while (!existsSync(parent)) parent = path.dirname(parent);
  try {
    accessSync(parent, constants.W_OK | constants.X_OK);
  } catch {
    throw new ConfigError(`data directory: ${dir} does not exist and ${parent} is not writable`);
  }
}

/** The master key as configured, or undefined when the key file does not exist yet. */
function configuredRing(config: Config): MasterKeyRing | undefined {
  if (config.masterKey)
    return makeRing([toMasterKey(Buffer.from(config.masterKey, 'base64'))], 'TRUSTLINK_MASTER_KEY');
  if (masterKeyFileExists(config.masterKeyFile)) return readMasterKeyFile(config.masterKeyFile);
  return undefined;
}

/**
 * Opens (or on first start, creates) the instance: database, master key, key store, root CA.
 * Everything that can be checked is checked before anything is written; if creating a new
 * instance fails half-way, what this call created is removed again, and what it cannot remove
 * (rows in a PostgreSQL database, anything after a crash) the next start finishes.
 */
export async function openRuntime(
  config: Config,
  log: Logger,
  opts: {
    now?: () => Date;
    existingOnly?: boolean;
    /** Wraps the key store this start uses (tests inject key-store faults through it). */
    keyStore?: (made: KeyStore) => KeyStore;
  } = {},
): Promise<Runtime> {
  const now = opts.now ?? (() => new Date());
  const url = effectiveDatabaseUrl(config);
  const { dialect, target } = parseDatabaseUrl(url);
  checkDataDir(config.dataDir);
  let ring = configuredRing(config);

  const created: string[] = [];
  const dataDirExisted = existsSync(config.dataDir);
  const sqliteExisted = dialect === 'sqlite' && existsSync(target);
  if (dialect === 'sqlite' && !existsSync(path.dirname(target))) {
    // The database file lives in a directory that will be created; check it like the data dir.
    checkDataDir(path.dirname(target));
  }
  const dbOptions = {
    createDirs: false,
    preparedStatements: config.databasePreparedStatements === 'on',
  };
  const db = await openDatabase(url, dbOptions).catch(async (err) => {
    if (err instanceof ConfigError && dialect === 'sqlite' && /does not exist/.test(err.message)) {
      mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
      if (!dataDirExisted) created.push('dataDir');
      return openDatabase(url);
    }
    throw err;
  });

  const cleanupNew = async () => {
    await db.close().catch(() => undefined);
    if (dialect === 'sqlite' && !sqliteExisted) {
      for (const f of [target, `${target}-wal`, `${target}-shm`]) rmSync(f, { force: true });
      if (created.includes('dataDir')) rmSync(config.dataDir, { recursive: true, force: true });
    }
    if (created.includes('masterKeyFile')) removeMasterKeyFile(config.masterKeyFile);
  };

  let hsm: (KeyBackend & { close(): void }) | undefined;
  let unlockStartup: () => Promise<void> = async () => undefined;
  let bus: EventBus | undefined;
  try {
    // Replicas starting together take turns from here until the instance exists.
    unlockStartup = await takeStartupLock(db);
    // An unfinished first start is taken up again like a new one (see instance-creation-service).
    const state = await firstStartState(db);
    const fresh = state !== 'created';
    if (fresh && opts.existingOnly) {
      throw new ConfigError(
        `${db.description} holds no Trustlink data${state === 'unfinished' ? ' (only an instance whose first start was cut short)' : ''}; start the server once (trustlink serve) or check the configuration`,
      );
    }
    if (!fresh && !ring) {
      throw new ConfigError(
        `master key: ${config.masterKeyFile} does not exist, but ${db.description} holds data sealed with a master key; restore the key file or set TRUSTLINK_MASTER_KEY (a new key is never generated over existing data)`,
      );
    }
    if (!ring) {
      const key = generateMasterKey();
      writeMasterKeyFile(config.masterKeyFile, [key]);
      created.push('masterKeyFile');
      ring = makeRing([key], config.masterKeyFile);
      log.info({ file: config.masterKeyFile, keyId: key.id }, 'created master key file');
    }
    let currentRing = ring;
    const box = createSecretBox(
      () => currentRing,
      () => {
        if (!config.masterKey) currentRing = readMasterKeyFile(config.masterKeyFile);
      },
    );
    if (!fresh) {
      const check = await verifyMasterKeyCheck(db.kysely, box);
      if (!check.ok) throw new ConfigError(`master key: ${check.reason}`);
    }
    if (!existsSync(config.dataDir)) {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      created.push('dataDir');
    }
    const applied = await migrateToLatest(db);
    if (applied.length) log.info({ migrations: applied }, 'database schema migrated');

    const software = createSoftwareBackend(box);
    hsm = openHsm(config);
    const madeKeystore = createKeyStore({ repo: createKeyRepo(db.kysely), software, hsm, now });
    const keystore = opts.keyStore ? opts.keyStore(madeKeystore) : madeKeystore;
    const caRepo = createCaRepo(db.kysely);
    const pki = createInstancePki({ keystore, caRepo, now });
    const instances = createInstanceRepo(db.kysely);

    const { instance, created: isNew } = await createInstanceCreation({
      db,
      instances,
      keystore,
      caRepo,
      pki,
      box,
      log,
      now,
    }).ensure(DEFAULT_INSTANCE_NAME);
    await unlockStartup();
    const outbox = createOutboxRepo(db.kysely, db.dialect);
    const outboxWorker = createOutboxWorker({ repo: outbox, log, now });
    const audit = createAuditService({
      db,
      box,
      keystore,
      now,
      checkpointSeconds: config.auditCheckpointSeconds,
      log,
    });
    await audit.ensureChain(instance.id);
    const setup = createSetupService(db.kysely, now, db.dialect);
    const access = createAccessServices({ db, box, audit, config, setup, instances, now });
    let pkiPort: number | undefined;
    const pkiEndpoint = {
      baseUrl: () => effectivePkiBaseUrl(config, pkiPort),
      bind: (port: number) => void (pkiPort = port),
    };
    // Background jobs run on whichever replica holds their lease (one process: always this one).
    const leases = createJobLeases({ db: db.kysely, ttlMs: JOB_LEASE_TTL_MS });
    const pkiServices = createPki({
      db: db.kysely,
      keystore,
      caRepo: createCaRepo(db.kysely),
      urls: pkiUrls(pkiEndpoint.baseUrl),
      audit: pkiAuditTo(audit),
      now,
      log,
      lease: leases.run,
    });
    const openedHsm = hsm;
    const hubRepo = createHubRepo(db.kysely);
    const databaseDirectRepo = createDatabaseDirectRepo(db.kysely);
    const fleet = createFleet({
      db,
      audit,
      issuingCas: pkiServices.issuingCas,
      now,
      refs: {
        hubExists: async (i, id) => (await hubRepo.find(i, id)) !== undefined,
        databaseConnectionExists: async (i, id) =>
          (await databaseDirectRepo.find(i, id)) !== undefined,
      },
    });
    // Images in the database when asked for (PostgreSQL; see docs/replicas.md), so every
    // replica serves every image; files under the data directory otherwise.
    const databaseBlobs =
      config.firmwareStore === 'database' ? createDatabaseBlobStore(db.kysely, { now }) : undefined;
    // Chunks of uploads that a stopped process never finished (a day is far past any upload).
    void databaseBlobs?.removeStaleUploads(24 * 3600_000).catch(() => undefined);
    const firmware = createFirmware({
      blobs: databaseBlobs,
      db,
      audit,
      keystore,
      instancePki: pki,
      pki: pkiServices,
      batches: fleet.batches,
      config,
      outbox,
      now,
    });
    // Each process has its own identity on the bus, so it can skip its own messages.
    const replicaId = randomUUID();
    bus = config.redisUrl
      ? createRedisBus({ url: config.redisUrl, replicaId, log })
      : createMemoryBus(replicaId);
    const deviceEvents = createDeviceEvents(log, bus);
    const enrolment = createDeviceApi({
      db,
      box,
      keystore,
      audit,
      pki: pkiServices,
      fleet,
      outbox,
      events: deviceEvents,
      publicHostname: config.publicHostname,
      tlsSubjectAltNames: config.tlsSubjectAltNames,
      now,
      log,
      lease: leases.run,
      connectionReconcileMs: config.deviceReconcileSeconds * 1000,
      rateLimits: {
        perAddress: {
          perMinute: config.deviceAddressRatePerMinute,
          burst: config.deviceAddressBurst,
        },
        perDevice: { perMinute: config.deviceRatePerMinute, burst: config.deviceBurst },
      },
    });
    const hubs = createHubsModule({
      config,
      db,
      box,
      audit,
      outbox,
      outboxWorker,
      deviceEvents,
      pkiServices,
      pki,
      keystore,
      fleet,
      repo: hubRepo,
      guard: createOutboundGuard({ allowList: config.outboundAllowList, databaseUrl: url }),
      instanceId: instance.id,
      log,
      now,
      lease: leases.run,
      replicaId,
    });
    // The enrolment answer says where the device connects for its data.
    enrolment.hooks.setHubConnection((instanceId, policy, deviceId) =>
      hubs.hubConnectionFor(instanceId, policy, { deviceId }),
    );
    // A certificate issued to a device of a cloud hub's policy puts a sync intent in the outbox.
    enrolment.hooks.setCertificateIssued((tx, issued) => hubs.certificateIssued(tx, issued));
    const databaseDirect = createDatabaseDirectModule({
      config,
      databaseUrl: url,
      db,
      repo: databaseDirectRepo,
      box,
      audit,
      deviceAudit: enrolment.audit,
      keystore,
      pki,
      fleet,
      log,
      now,
    });
    // Devices of a database-direct policy learn their connection in the enrolment answer.
    enrolment.hooks.setDatabaseConnection((instanceId, policy) =>
      databaseDirect.tokens.blockFor(instanceId, policy),
    );
    // A check-in tells the device of the update its batch's rollout has waiting for it.
    enrolment.hooks.setUpdateCheck({
      waitingUpdateId: waitingUpdateIdOf,
      pointer: (id) => firmware.devices.updatePointer(id),
    });
    // An assignment tells the batch's devices on an embedded MQTT hub (devices/<id>/firmware).
    const firmwareNotifier = createFirmwareNotifier({
      deviceIds: (i, batchId) => fleet.batches.deviceIds(i, batchId),
      currentUpdateId: (i, batchId) => firmware.currentUpdateId(i, batchId),
      async embeddedHubOf(i, batchId) {
        const batch = await fleet.batches.find(i, batchId);
        const policy = batch
          ? await fleet.policies.get(i, batch.policyId).catch(() => undefined)
          : undefined;
        const hub = policy?.hubId ? await hubRepo.find(i, policy.hubId) : undefined;
        return hub?.type === 'mqtt' ? hub.id : undefined;
      },
      publish: (i, hubId, topic, payload) => hubs.broker.publish(i, hubId, topic, payload),
    });
    outboxWorker.register(FIRMWARE_UPDATE_ASSIGNED_TOPIC, async (e) => {
      const p = e.payload as { batchId?: unknown; updateId?: unknown };
      if (typeof p?.batchId !== 'string' || typeof p.updateId !== 'string')
        throw new Error('outbox payload lacks batchId or updateId');
      await firmwareNotifier.notify(e.instanceId, p.batchId, p.updateId);
    });
    // A signing key a batch uses cannot be deleted (the PKI asks every registered domain).
    pkiServices.keyUsage.register('batches', async (instanceId, keyId) =>
      (await fleet.batches.list(instanceId))
        .filter((b) => b.signingKeyId === keyId)
        .map((b) => `batch "${b.name}"`),
    );
    const manufacturing = createManufacturingService({
      db,
      repo: createManufacturingRepo(db.kysely),
      batches: fleet.batches,
      challenges: enrolment.challenges,
      keyTypesOf: async (instanceId, batchId) => {
        const batch = await fleet.batches.find(instanceId, batchId);
        if (!batch) return undefined;
        return (await fleet.policies.get(instanceId, batch.policyId)).deviceCertificate.keyTypes;
      },
      audit,
      now,
    });
    const provisioning = createProvisioning({
      db,
      audit,
      keystore,
      instancePki: pki,
      pki: pkiServices,
      batches: fleet.batches,
      firmware,
      config,
      now,
      log,
      lease: leases.run,
    });
    // What other replicas cache (trusted CAs, hub rules) hears of changes made here, and back.
    const stopRelay = createReplicaRelay({
      bus,
      onIssuingCaCreated: (l) => pkiServices.onIssuingCaCreated(l),
      onHubChange: (l) => hubs.hubs.onChange(l),
      issuingCaCreatedElsewhere(instanceId, caId) {
        enrolment.auth.noteIssuer(instanceId, caId);
        hubs.broker
          .reloadTrust()
          .catch((err: unknown) => log.warn({ err }, 'mqtt: trust reload failed'));
      },
      hubChangedElsewhere(instanceId, hubId, kind) {
        hubs.broker
          .hubChanged(instanceId, hubId, kind)
          .catch((err: unknown) => log.warn({ err }, 'mqtt: applying a hub change failed'));
      },
      log,
    });
    const openedBus = bus;
    const runtime: Runtime = {
      bus: openedBus,
      config,
      db,
      box,
      keystore,
      pki,
      outbox,
      outboxWorker,
      setup,
      audit,
      access,
      hubs,
      databaseDirect,
      pkiServices,
      firmware,
      pkiEndpoint,
      fleet,
      deviceEvents,
      enrolment,
      manufacturing,
      provisioning,
      instance,
      created: isNew,
      now,
      async close() {
        await enrolment.stop();
        await hubs.stop();
        await databaseDirect.stop();
        await pkiServices.stop();
        await provisioning.jobs.stop();
        await outboxWorker.stop();
        stopRelay();
        deviceEvents.close();
        await openedBus.close();
        await leases.releaseAll().catch(() => undefined);
        await audit.close();
        await db.close();
        openedHsm?.close();
      },
    };
    return runtime;
  } catch (err) {
    await unlockStartup().catch(() => undefined);
    hsm?.close();
    await bus?.close().catch(() => undefined);
    await cleanupNew();
    throw err;
  }
}

/** The PKCS#11 backend when configured; a module or token problem is a configuration error. */
function openHsm(config: Config): (KeyBackend & { close(): void }) | undefined {
  if (config.keystore !== 'pkcs11') return undefined;
  try {
    return createPkcs11Backend({
      module: config.pkcs11Module!,
      tokenLabel: config.pkcs11TokenLabel!,
      pin: config.pkcs11Pin!,
    });
  } catch (err) {
    throw new ConfigError(`key store: ${(err as Error).message}`);
  }
}
