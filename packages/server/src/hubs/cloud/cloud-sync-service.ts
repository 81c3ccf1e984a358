import type { Executor } from '../../db/database.js';
import type { DeviceRepo } from '../../devices/device-repo.js';
import type { KeyStore } from '../../keystore/keystore-types.js';
import type { OutboundGuard } from '../../lib/outbound-guard.js';
import type { OutboxRepo } from '../../outbox/outbox-repo.js';
import type { CaRepo } from '../../pki/ca-repo.js';
import type { DeviceCertService } from '../../pki/device-cert-service.js';
import { createAwsIotConnector } from '../aws/aws-iot-connector.js';
import { createAzureIotCentralConnector } from '../azure/azure-iot-central-connector.js';
import { createAzureIotHubConnector } from '../azure/azure-iot-hub-connector.js';
import { createHubRepo, type HubRepo, type StoredHub } from '../hub-repo.js';
import { createCloudObjectRepo, type CloudObjectRepo } from './cloud-object-repo.js';
import { planDeviceSync } from './cloud-sync-fns.js';
import { isCloudHub, type CloudConnector } from './cloud-types.js';

/** Outbox topic: bring a device's record on its cloud hub in line (enrolment, renewal, retiring). */
export const HUB_DEVICE_SYNC_TOPIC = 'hub.device-sync';
/** Outbox topic: make a new issuing CA known to the cloud hubs that register CAs. */
export const HUB_CA_CREATED_TOPIC = 'hub.ca-created';
/** Outbox topic: set up what a cloud hub itself needs (AWS: its custom authorizer). */
export const HUB_CLOUD_SETUP_TOPIC = 'hub.cloud-setup';
/** The outbox subject of a hub's own set-up intents. */
export const hubSubject = (hubId: string) => `hub:${hubId}`;

export interface CloudSyncDeps {
  hubs: HubRepo;
  secretsOf(instanceId: string, hubId: string): Promise<Record<string, string>>;
  devices: Pick<DeviceRepo, 'find'>;
  deviceCerts: Pick<DeviceCertService, 'list'>;
  caRepo: Pick<CaRepo, 'find'>;
  keystore: Pick<KeyStore, 'publicKey' | 'signer' | 'generate'>;
  objects: CloudObjectRepo;
  outbox: Pick<OutboxRepo, 'enqueue' | 'forSubject' | 'failedOf'>;
  /** Topics whose entries carry `{ hubId, deviceId }` and sync a device (revocation too). */
  deviceTopics: string[];
  guard: OutboundGuard;
  now: () => Date;
}

/**
 * Keeps devices' records on cloud hubs (AWS IoT Core, Azure IoT Hub, Azure IoT Central) in
 * line with the platform: each change writes an outbox intent in its own transaction, and the
 * intent's handler compares what the device should have on the hub with what the platform has
 * recorded there, making only the calls still needed. A hub that was down catches up when the
 * outbox retries; a repeated intent finds nothing left to do.
 */
export function createCloudSync(deps: CloudSyncDeps) {
  const { hubs, objects, now } = deps;

  async function connectorFor(instanceId: string, hub: StoredHub): Promise<CloudConnector> {
    const secrets = await deps.secretsOf(instanceId, hub.id);
    const common = { instanceId, hub, secrets, objects, guard: deps.guard, now };
    switch (hub.type) {
      case 'aws-iot-core':
        return createAwsIotConnector({ ...common, caRepo: deps.caRepo, keystore: deps.keystore });
      case 'azure-iot-hub':
        return createAzureIotHubConnector(common);
      case 'azure-iot-central':
        return createAzureIotCentralConnector(common);
      default:
        throw new Error(`hub type ${hub.type} is not a cloud hub`);
    }
  }

  /** The plan for one device on one hub, from the device, its certificates and our records. */
  async function planFor(instanceId: string, hubId: string, deviceId: string) {
    const device = await deps.devices.find(instanceId, deviceId);
    if (!device) return undefined;
    const certs = await deps.deviceCerts.list(instanceId, { deviceId, limit: 1000, offset: 0 });
    const recorded = await objects.ofDevice(instanceId, hubId, deviceId);
    const activeOnHub = new Set(
      recorded
        .filter(
          (o) => o.kind === 'certificate' && (o.state === 'active' || o.state === 'registered'),
        )
        .map((o) => o.localId),
    );
    return planDeviceSync({
      device,
      certificates: certs.map((c) => ({
        id: c.id,
        der: c.der,
        issuerId: c.issuerId,
        notAfter: c.notAfter,
        createdAt: c.createdAt,
        status: c.status,
      })),
      activeOnHub,
      now: now(),
    });
  }

  /** Runs one device's sync against the hub named in its intent (handlers call this). */
  async function syncDevice(instanceId: string, hubId: string, deviceId: string): Promise<void> {
    const hub = await hubs.find(instanceId, hubId);
    // The hub was removed since: nothing of ours to keep in line there any more.
    if (!hub || !isCloudHub(hub)) return;
    const plan = await planFor(instanceId, hubId, deviceId);
    if (!plan) return;
    await (await connectorFor(instanceId, hub)).syncDevice(plan);
  }

  async function enqueueSync(
    tx: Executor,
    instanceId: string,
    hubId: string,
    deviceId: string,
    why: string,
  ): Promise<void> {
    await deps.outbox.enqueue(
      tx,
      {
        instanceId,
        topic: HUB_DEVICE_SYNC_TOPIC,
        subject: deviceId,
        payload: { hubId, deviceId, why },
      },
      now(),
    );
  }

  return {
    syncDevice,
    connectorFor,
    /** What we recorded in a hub for one device (for the API). */
    objectsOf: (instanceId: string, hubId: string, deviceId: string) =>
      objects.ofDevice(instanceId, hubId, deviceId),
    planFor,
    /**
     * In the issuing transaction: a device of a cloud hub's policy got a certificate, so the
     * hub must learn it (enrolment: register, create, attach; renewal: register the new one).
     */
    async certificateIssued(
      tx: Executor,
      e: { instanceId: string; deviceId: string; policy: { hubId: string | null }; state: string },
    ): Promise<boolean> {
      if (!e.policy.hubId) return false;
      // Read through the transaction: on SQLite another connection would wait on our lock.
      const hub = await createHubRepo(tx).find(e.instanceId, e.policy.hubId, tx);
      if (!hub || !isCloudHub(hub)) return false;
      await enqueueSync(
        tx,
        e.instanceId,
        hub.id,
        e.deviceId,
        e.state === 'enrolled' ? 'enrolment' : 'renewal',
      );
      return true;
    },
    /** A new issuing CA exists: every cloud hub of the instance that registers CAs learns it. */
    async caCreated(tx: Executor, instanceId: string, caId: string): Promise<void> {
      await deps.outbox.enqueue(
        tx,
        { instanceId, topic: HUB_CA_CREATED_TOPIC, subject: `ca:${caId}`, payload: { caId } },
        now(),
      );
    },
    async registerCa(instanceId: string, caId: string): Promise<void> {
      for (const hub of await hubs.list(instanceId)) {
        if (!isCloudHub(hub)) continue;
        await (await connectorFor(instanceId, hub)).registerCa(caId);
      }
    },
    /**
     * Finds devices whose old certificate may now be retired (they have been seen with the new
     * one, or the old one expired) and writes a sync intent for each. Periodic.
     */
    async retirePass(db: Executor): Promise<number> {
      let n = 0;
      for (const d of await objects.devicesWithOverlap()) {
        const plan = await planFor(d.instanceId, d.hubId, d.deviceId);
        if (!plan?.retire.length) continue;
        const pending = (await deps.outbox.forSubject(d.instanceId, d.deviceId, 5)).some(
          (e) => e.topic === HUB_DEVICE_SYNC_TOPIC && e.status === 'pending',
        );
        if (pending) continue;
        await enqueueSync(db, d.instanceId, d.hubId, d.deviceId, 'retire');
        n++;
      }
      return n;
    },
    /**
     * Starts afresh the device syncs that gave up (a cloud down for longer than the outbox's
     * retries, a key that was wrong), when no newer intent for the device exists: all of one
     * hub's when it has just been changed, or, periodically, those that failed an hour ago.
     */
    async retryFailed(db: Executor, opts: { hubId?: string; before: Date }): Promise<number> {
      let n = 0;
      for (const e of await deps.outbox.failedOf(deps.deviceTopics, opts.before)) {
        const p = e.payload as { hubId?: unknown; deviceId?: unknown } | null;
        if (typeof p?.hubId !== 'string' || typeof p.deviceId !== 'string') continue;
        if (opts.hubId && p.hubId !== opts.hubId) continue;
        const hub = await hubs.find(e.instanceId, p.hubId);
        if (!hub || !isCloudHub(hub)) continue;
        // A newer intent (pending, or done after this one failed) already covers the device:
        // every sync brings the whole device in line, not just one step.
        const [newest] = await deps.outbox.forSubject(e.instanceId, e.subject, 1);
        if (newest && newest.id !== e.id) continue;
        await deps.outbox.enqueue(
          db,
          { instanceId: e.instanceId, topic: e.topic, subject: e.subject, payload: e.payload },
          now(),
        );
        n++;
      }
      return n;
    },
    /**
     * In the hub's save transaction: its own set-up (the AWS custom authorizer) is due when
     * custom authentication is on, or was (turning it off takes the authorizer down).
     */
    async hubSaved(tx: Executor, instanceId: string, hub: { id: string; type: string }) {
      if (hub.type !== 'aws-iot-core') return;
      // Read through the transaction: on SQLite another connection would wait on our lock.
      const saved = await createHubRepo(tx).find(instanceId, hub.id, tx);
      const on = saved?.settings.customAuthentication === true;
      const had = (await createCloudObjectRepo(tx).ofHub(instanceId, hub.id, 'authorizer')).some(
        (o) => o.state !== 'deleted',
      );
      if (!on && !had) return;
      await deps.outbox.enqueue(
        tx,
        {
          instanceId,
          topic: HUB_CLOUD_SETUP_TOPIC,
          subject: hubSubject(hub.id),
          payload: { hubId: hub.id },
        },
        now(),
      );
    },
    /** Runs a hub's set-up (the outbox handler); a removed hub has nothing to set up. */
    async setUpHub(instanceId: string, hubId: string): Promise<void> {
      const hub = await hubs.find(instanceId, hubId);
      if (!hub || !isCloudHub(hub)) return;
      await (await connectorFor(instanceId, hub)).setUpHub?.();
    },
    /**
     * The status check of a cloud hub: one cheap authenticated call (two with an AWS custom
     * authorizer); a hub set-up that is waiting or gave up says why.
     */
    async check(instanceId: string, hub: StoredHub) {
      const r = await (await connectorFor(instanceId, hub)).check();
      const [setup] = await deps.outbox.forSubject(instanceId, hubSubject(hub.id), 1);
      // Not yet run is no fault; one that failed (or gave up) says why.
      if (setup?.topic === HUB_CLOUD_SETUP_TOPIC && setup.status !== 'done' && setup.lastError)
        return {
          ok: false,
          detail: `${r.detail}; hub set-up ${setup.status}${setup.lastError ? `: ${setup.lastError}` : ''}`,
        };
      return r;
    },
  };
}
export type CloudSync = ReturnType<typeof createCloudSync>;
