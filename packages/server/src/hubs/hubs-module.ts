import type { Logger } from 'pino';
import type { AuditService } from '../audit/audit-service.js';
import type { Fleet } from '../batches/fleet.js';
import type { Config } from '../config.js';
import type { Db, Executor } from '../db/database.js';
import { createDeviceRepo } from '../devices/device-repo.js';
import type { DeviceEvents } from '../devices/device-events.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import type { OutboundGuard } from '../lib/outbound-guard.js';
import { createEmbeddedBroker } from '../mqtt/embedded-broker.js';
import { createMqttFabric } from '../mqtt/mqtt-fabric.js';
import { createMosquittoManager } from '../mqtt/mosquitto-manager.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';
import type { OutboxWorker } from '../outbox/outbox-worker.js';
import { toPem } from '../pki/certificate-builder.js';
import type { InstancePki } from '../pki/instance-pki.js';
import type { Pki } from '../pki/pki-module.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { createHubConnections } from './hub-connection.js';
import { createHubDirectory } from './hub-directory.js';
import { hubMembers } from './hub-members.js';
import type { HubRepo, StoredHub } from './hub-repo.js';
import { createHubService, HUB_SYNC_TOPIC } from './hub-service.js';
import { createHubStatusService } from './hub-status-service.js';
import { createHubToolService } from './hub-tool-service.js';
import { createCloudObjectRepo } from './cloud/cloud-object-repo.js';
import {
  createCloudSync,
  HUB_CA_CREATED_TOPIC,
  HUB_CLOUD_SETUP_TOPIC,
  HUB_DEVICE_SYNC_TOPIC,
} from './cloud/cloud-sync-service.js';
import { isCloudHub } from './cloud/cloud-types.js';
import { createAuthorizerTokens } from './aws/aws-authorizer-token-service.js';
import type { JobLease } from '../jobs/job-leases.js';

/** Outbox topic the device revocation service writes: take the device off its hub. */
export const HUB_DEVICE_REVOKED_TOPIC = 'hub.device-revoked';
/** Outbox topic the enrolment service may write: put the device on its (managed) hub. */
export const HUB_DEVICE_ENROLLED_TOPIC = 'hub.device-enrolled';

/** A device sync that gave up is started afresh this long after its last attempt. */
const RETRY_FAILED_AFTER_MS = 3600_000;

const SYSTEM = { actor: { type: 'system' as const, name: 'hubs' } };

export interface HubsModuleDeps {
  config: Config;
  db: Db;
  box: SecretBox;
  audit: AuditService;
  outbox: OutboxRepo;
  outboxWorker: OutboxWorker;
  deviceEvents: DeviceEvents;
  pkiServices: Pki;
  pki: InstancePki;
  keystore: KeyStore;
  fleet: Fleet;
  repo: HubRepo;
  guard: OutboundGuard;
  /** The instance served on the MQTT port. */
  instanceId: string;
  log: Logger;
  now: () => Date;
  /** Runs the periodic broker reconcile on one replica of several (jobs/job-leases.ts). */
  lease?: JobLease;
  /** This process's identity among replicas (the event bus's); see mqtt-fabric.ts. */
  replicaId?: string;
}

/**
 * IoT hubs wired together: records, tools, the embedded broker of `mqtt` hubs, managed
 * Mosquitto brokers, status, and the hub block of enrolment answers. Registers the outbox
 * handlers and device-event listeners that take revoked devices off their hubs.
 */
export function createHubsModule(deps: HubsModuleDeps) {
  const { config, repo, pkiServices, fleet, log, now, instanceId } = deps;
  const hubLog = log.child({ component: 'hubs' });
  const devices = createDeviceRepo(deps.db.kysely);

  const trustedCas = async (i: string) => {
    const t = now().getTime();
    return (await pkiServices.caRepo.list(i))
      .filter((c) => (c.kind === 'root' || c.kind === 'issuing') && Date.parse(c.notAfter) > t)
      .map((c) => ({ id: c.id, der: c.der }));
  };

  const directory = createHubDirectory({
    hubs: repo,
    devices,
    deviceCerts: pkiServices.deviceCerts,
    async batchPolicy(i, batchId) {
      const batch = await fleet.batches.find(i, batchId);
      return batch ? fleet.policies.get(i, batch.policyId).catch(() => undefined) : undefined;
    },
    now,
  });

  const hubs = createHubService({
    db: deps.db,
    repo,
    box: deps.box,
    audit: deps.audit,
    outbox: deps.outbox,
    guard: deps.guard,
    mosquittoManagedRoot: config.mosquittoManagedRoot,
    async policyUsingHub(i, hubId) {
      const p = (await fleet.policies.list(i)).find((x) => x.hubId === hubId);
      return p ? `policy "${p.name}"` : undefined;
    },
    async revokeCertificate(i, certificateId, ctx) {
      await pkiServices.deviceCerts.revoke(i, certificateId, 'cessationOfOperation', ctx);
    },
    // A cloud hub's own set-up (the AWS custom authorizer) is committed with its record.
    afterSave: (tx, i, h) => cloud.hubSaved(tx, i, h),
    now,
  });

  const broker = createEmbeddedBroker({
    directory,
    trustedCas,
    findHub: (i, id) => repo.find(i, id),
    instanceId,
    log: hubLog,
    reconcileMs: config.mqttReconcileSeconds * 1000,
    record: (event) => deps.audit.record(event),
    // With replicas (a Redis configured), the brokers of every replica share one fan-out.
    fabric: config.redisUrl ? createMqttFabric({ url: config.redisUrl, log: hubLog }) : undefined,
    replicaId: deps.replicaId,
  });
  const embeddedEndpoint = () => ({
    host: config.publicHostname,
    port: broker.port() ?? config.mqttPort,
  });

  const tools = createHubToolService({
    db: deps.db,
    repo,
    audit: deps.audit,
    outbox: deps.outbox,
    issuingCas: pkiServices.issuingCas,
    deviceCerts: pkiServices.deviceCerts,
    rootPem: async (i) => toPem((await deps.pki.root(i)).der),
    embeddedEndpoint,
    onRemoved: async (i, hubId, clientId) => {
      await broker.evictClient(i, hubId, clientId, 'tool-removed');
    },
    now,
  });

  const mosquitto = createMosquittoManager({
    root: config.mosquittoManagedRoot,
    hubs: repo,
    keystore: deps.keystore,
    deviceCerts: pkiServices.deviceCerts,
    ensureToolsCa: (i, hub) => tools.ensureToolsCa(i, hub, SYSTEM),
    trustedCas,
    async crls(i, caIds) {
      await pkiServices.crl.rebuildDue(i);
      return Promise.all(caIds.map(async (id) => (await pkiServices.crl.current(i, id)).der));
    },
    members: (i, hub) => hubMembers(fleet, repo, i, hub),
    guard: deps.guard,
    log: hubLog,
  });

  const cloudObjects = createCloudObjectRepo(deps.db.kysely);
  const cloud = createCloudSync({
    hubs: repo,
    secretsOf: (i, id) => hubs.secretsOf(i, id),
    devices,
    deviceCerts: pkiServices.deviceCerts,
    caRepo: pkiServices.caRepo,
    keystore: deps.keystore,
    objects: cloudObjects,
    outbox: deps.outbox,
    deviceTopics: [HUB_DEVICE_SYNC_TOPIC, HUB_DEVICE_REVOKED_TOPIC],
    guard: deps.guard,
    now,
  });

  // Tokens for an AWS IoT custom authorizer, signed with the hub's key in the key store.
  const authorizerTokens = createAuthorizerTokens({
    directory,
    objects: cloudObjects,
    keystore: deps.keystore,
    now,
  });

  const status = createHubStatusService({
    repo,
    checks: {
      mqtt: async (i, hub) =>
        broker.listening
          ? {
              ok: true,
              detail: `embedded broker listening on port ${broker.port()}; ${await broker.connections(i, hub.id)} connected`,
            }
          : { ok: false, detail: 'the embedded broker is not listening' },
      mosquitto: (i, hub) => mosquitto.check(i, hub),
      // One cheap authenticated API call: a wrong key shows as "credentials rejected".
      'aws-iot-core': (i, hub) => cloud.check(i, hub),
      'azure-iot-hub': (i, hub) => cloud.check(i, hub),
      'azure-iot-central': (i, hub) => cloud.check(i, hub),
    },
    now,
  });

  const connections = createHubConnections({
    hubs: repo,
    rootDer: async (i) => (await deps.pki.root(i)).der,
    embeddedEndpoint,
  });

  /** Takes a revoked device off its hub; idempotent (the outbox may run it again). */
  async function deviceRevoked(i: string, deviceId: string, hubId?: string): Promise<void> {
    await broker.evictDevice(i, deviceId);
    // The hub the device was on when revoked (the intent names it): revoke it there.
    const at = hubId ? await repo.find(i, hubId) : undefined;
    if (at && isCloudHub(at)) await cloud.syncDevice(i, at.id, deviceId);
    const found = await directory.hubOfDevice(i, deviceId);
    if (found.ok && found.hub.type === 'mosquitto')
      await mosquitto.cutOff(i, found.hub.id, deviceId);
  }

  async function deviceEnrolled(i: string, deviceId: string): Promise<void> {
    const found = await directory.hubOfDevice(i, deviceId);
    if (found.ok && found.hub.type === 'mosquitto') await mosquitto.sync(i, found.hub.id);
  }

  const payloadOf = (p: unknown, key: string): string => {
    const v = (p as Record<string, unknown> | null)?.[key];
    if (typeof v !== 'string') throw new Error(`outbox payload lacks ${key}`);
    return v;
  };
  deps.outboxWorker.register(HUB_DEVICE_REVOKED_TOPIC, (e) =>
    deviceRevoked(
      e.instanceId,
      payloadOf(e.payload, 'deviceId'),
      (e.payload as { hubId?: string } | null)?.hubId,
    ),
  );
  deps.outboxWorker.register(HUB_DEVICE_SYNC_TOPIC, (e) =>
    cloud.syncDevice(e.instanceId, payloadOf(e.payload, 'hubId'), payloadOf(e.payload, 'deviceId')),
  );
  deps.outboxWorker.register(HUB_CLOUD_SETUP_TOPIC, (e) =>
    cloud.setUpHub(e.instanceId, payloadOf(e.payload, 'hubId')),
  );
  deps.outboxWorker.register(HUB_CA_CREATED_TOPIC, (e) =>
    cloud.registerCa(e.instanceId, payloadOf(e.payload, 'caId')),
  );
  deps.outboxWorker.register(HUB_DEVICE_ENROLLED_TOPIC, (e) =>
    deviceEnrolled(e.instanceId, payloadOf(e.payload, 'deviceId')),
  );
  deps.outboxWorker.register(HUB_SYNC_TOPIC, async (e) => {
    await mosquitto.sync(e.instanceId, payloadOf(e.payload, 'hubId'));
  });

  // What the issuing transaction's hook learnt for the events after its commit, per device:
  // that it wrote a cloud hub's sync intent (the worker is kicked for it), or that the policy
  // has no hub (nothing for a hub to learn: the lookup of the device's hub is skipped). Entries
  // of a transaction that rolled back are replaced by the device's next issuance; the bound
  // keeps them from piling up (a forgotten entry costs a lookup or waits for the next tick).
  const syncWritten = new Set<string>();
  const withoutHub = new Set<string>();
  const remember = (set: Set<string>, k: string) => {
    if (set.size >= 10_000) set.clear();
    set.add(k);
  };
  async function certificateIssued(
    tx: Executor,
    e: Parameters<typeof cloud.certificateIssued>[1],
  ): Promise<void> {
    const k = `${e.instanceId}/${e.deviceId}`;
    syncWritten.delete(k);
    withoutHub.delete(k);
    if (await cloud.certificateIssued(tx, e)) remember(syncWritten, k);
    if (!e.policy.hubId) remember(withoutHub, k);
  }

  const unsubscribe = [
    // Events make it immediate; the outbox entry and the reconcile pass make it certain.
    deps.deviceEvents.on(async (e) => {
      if (e.type === 'revoked') await broker.evictDevice(e.instanceId, e.deviceId);
      if (e.type === 'enrolled' && !withoutHub.delete(`${e.instanceId}/${e.deviceId}`))
        await deviceEnrolled(e.instanceId, e.deviceId);
      // A cloud hub should know a new certificate before the device tries it: its sync
      // intent (committed with the certificate) runs now, not at the worker's next tick. Only
      // then: a claim of due intents after every certificate was ~3% of an enrolment's CPU.
      if (e.type === 'certificate-issued' && syncWritten.delete(`${e.instanceId}/${e.deviceId}`))
        deps.outboxWorker.kick();
    }),
    hubs.onChange((c) => {
      status.invalidate(c.instanceId);
      // A saved cloud hub's set-up intent (the AWS custom authorizer) runs now, before
      // devices ask for tokens, not at the worker's next tick.
      if (c.kind !== 'deleted') deps.outboxWorker.kick();
      // A removed cloud hub's records go with it (its objects in the cloud are the user's).
      // A changed hub (a key put right, an endpoint fixed) gets its given-up syncs again.
      if (c.kind === 'updated')
        cloud
          .retryFailed(deps.db.kysely, { hubId: c.hubId, before: now() })
          .catch((err) => hubLog.warn({ err }, 'cloud hubs: retrying failed syncs failed'));
      if (c.kind === 'deleted')
        cloudObjects
          .deleteOfHub(c.instanceId, c.hubId)
          .catch((err) => hubLog.warn({ err }, 'cloud hubs: forgetting a removed hub failed'));
      broker
        .hubChanged(c.instanceId, c.hubId, c.kind)
        .catch((err) => hubLog.warn({ err }, 'mqtt: applying a hub change failed'));
    }),
    pkiServices.onIssuingCaCreated(() => {
      broker.reloadTrust().catch((err) => hubLog.warn({ err }, 'mqtt: trust reload failed'));
    }),
    // A new issuing CA (a rollover) is registered with cloud hubs that register CAs; device
    // syncs also register their certificate's CA first, so none is registered before its CA.
    pkiServices.onIssuingCaCreated((ca) => {
      caCreated(ca.instanceId, ca.id).catch((err) =>
        hubLog.warn({ err }, 'cloud hubs: recording a new CA failed'),
      );
    }),
  ];

  async function caCreated(i: string, caId: string): Promise<void> {
    if (!(await repo.list(i)).some(isCloudHub)) return;
    await cloud.caCreated(deps.db.kysely, i, caId);
  }

  let timer: NodeJS.Timeout | undefined;
  let syncing: Promise<void> | undefined;
  /** Keeps every managed Mosquitto's files current (new CAs, CRL refreshes, enrolments). */
  async function syncManaged(): Promise<void> {
    if (!config.mosquittoManagedRoot || syncing) return;
    syncing = (async () => {
      const managed: (StoredHub & { instanceId: string })[] = await repo.listOfTypes(['mosquitto']);
      for (const h of managed)
        await mosquitto
          .sync(h.instanceId, h.id)
          .catch((err) => hubLog.warn({ err, hub: h.id }, 'mosquitto: sync failed; will retry'));
    })().finally(() => (syncing = undefined));
    return syncing;
  }

  return {
    hubs,
    tools,
    status,
    directory,
    broker,
    mosquitto,
    /** The enrolment answer's hub block: `hubConnectionFor(instanceId, policy, { deviceId })`. */
    hubConnectionFor: connections.hubConnectionFor,
    deviceRevoked,
    syncManaged,
    /** Cloud hubs: device syncs, CA registration, the retire pass, status checks. */
    cloud,
    /** AWS IoT custom authentication: the device's signed token (device API). */
    authorizerTokens,
    /** For the enrolment hook: the outbox intents of a certificate just issued. */
    certificateIssued,
    /** Opens the MQTT port and starts the periodic work; returns the bound port. */
    async start(tlsMaterial: { certPem: string; keyPem: string }): Promise<number> {
      const port = await broker.listen(config.bindAddress, config.mqttPort, tlsMaterial);
      timer = setInterval(() => {
        // Once across replicas: whichever holds the lease reconciles the outside brokers.
        const periodic = async () => {
          await syncManaged().catch((err) => hubLog.warn({ err }, 'mosquitto: sync failed'));
          await cloud
            .retirePass(deps.db.kysely)
            .catch((err) => hubLog.warn({ err }, 'cloud hubs: retire pass failed'));
          await cloud
            .retryFailed(deps.db.kysely, {
              before: new Date(now().getTime() - RETRY_FAILED_AFTER_MS),
            })
            .catch((err) => hubLog.warn({ err }, 'cloud hubs: retrying failed syncs failed'));
        };
        void (deps.lease ? deps.lease('hub-reconcile', periodic) : periodic());
      }, config.mqttReconcileSeconds * 1000);
      timer.unref();
      return port;
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      for (const u of unsubscribe) u();
      await syncing?.catch(() => undefined);
      await broker.close();
    },
  };
}
export type HubsModule = ReturnType<typeof createHubsModule>;
