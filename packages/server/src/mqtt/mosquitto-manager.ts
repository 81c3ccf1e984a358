import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import mqtt from 'mqtt';
import type { Logger } from 'pino';
import type { AuditContext } from '../audit/audit-types.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import type { OutboundGuard } from '../lib/outbound-guard.js';
import { toPem } from '../pki/certificate-builder.js';
import type { DeviceCertService } from '../pki/device-cert-service.js';
import { bitString, explicit, integer, oid, seq } from '../pki/der-fns.js';
import { deviceIdOf } from '../pki/device-key-fns.js';
import type { HubRepo, StoredHub } from '../hubs/hub-repo.js';
import { rulesOf } from './embedded-broker.js';
import { MOSQUITTO_FILES, pemOf, renderAcl, type MosquittoClient } from './mosquitto-fns.js';
import { expandFilters } from './mqtt-rules-fns.js';

const SYSTEM: AuditContext = { actor: { type: 'system', name: 'mosquitto-manager' } };
const CONNECT_TIMEOUT_MS = 5000;
/** How long retained messages are collected after subscribing, before clearing them. */
const RETAINED_WAIT_MS = 300;

export interface MosquittoManagerDeps {
  /** The operator's `mosquittoManagedRoot`. */
  root: string | undefined;
  hubs: HubRepo;
  keystore: KeyStore;
  deviceCerts: Pick<DeviceCertService, 'issueDeviceCertificate' | 'get'>;
  ensureToolsCa(instanceId: string, hub: StoredHub): Promise<string>;
  /** Root and issuing CAs to trust (unexpired), as the embedded broker trusts them. */
  trustedCas(instanceId: string): Promise<{ id: string; der: Buffer }[]>;
  /** The current CRL (DER) of each CA, rebuilt first where revocations made it stale. */
  crls(instanceId: string, caIds: string[]): Promise<Buffer[]>;
  /** The hub's devices (enrolled or renewed) and tools. */
  members(instanceId: string, hub: StoredHub): Promise<MosquittoClient[]>;
  guard: OutboundGuard;
  log: Pick<Logger, 'info' | 'warn'>;
  /** Pause between signalling a reload and acting on it (the broker reloads in its loop). */
  reloadDelayMs?: number;
}

/** Writes a file only when its content changed, atomically (readers never see half a file). */
function writeIfChanged(file: string, content: string): boolean {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return false;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o640 });
  renameSync(tmp, file);
  return true;
}

/**
 * Managed Mosquitto brokers (type `mosquitto`): the platform keeps, in the broker's directory
 * under `mosquittoManagedRoot`, the CA bundle it trusts, the CRLs of those CAs and an ACL
 * made from the hub's rules, and sends the broker SIGHUP when they change (Mosquitto 2.0
 * re-reads its ACL, CA and CRL files on SIGHUP). A revoked device is then cut off by taking
 * over its client ID with a clean session, which drops its session and queued messages, and
 * its retained messages are cleared.
 */
export function createMosquittoManager(deps: MosquittoManagerDeps) {
  const { hubs, keystore, log } = deps;
  const reloadDelayMs = deps.reloadDelayMs ?? 500;
  const queues = new Map<string, Promise<unknown>>();

  /** Runs work on one hub one at a time (two syncs must not both make a platform key). */
  function serially<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = queues.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    queues.set(key, next);
    void next
      .finally(() => {
        if (queues.get(key) === next) queues.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  function dirOf(hub: StoredHub): string {
    if (!deps.root) throw new Error('mosquittoManagedRoot is not set');
    const name = String(hub.settings.managedDirectory);
    const dir = path.resolve(deps.root, name);
    // The setting is one plain name (hub-types); this keeps it inside the root regardless.
    if (path.dirname(dir) !== path.resolve(deps.root))
      throw new Error('managed directory escapes the root');
    return dir;
  }

  /** The platform's own client certificate for this broker, made on first use. */
  function platformClient(instanceId: string, hub: StoredHub) {
    return serially(`platform/${instanceId}/${hub.id}`, () =>
      ensurePlatformClient(instanceId, hub.id),
    );
  }

  async function ensurePlatformClient(instanceId: string, hubId: string) {
    const hub = await hubs.find(instanceId, hubId);
    if (!hub) throw new Error(`hub ${hubId} is gone`);
    let keyId = hub.platformKeyId;
    let certId = hub.platformCertificateId;
    if (!keyId || !certId) {
      const key = await keystore.generate(instanceId, {
        algorithm: 'P-256',
        label: `mosquitto hub ${hub.name} platform client`,
        purpose: 'tls',
      });
      const info = seq(integer(0), seq(), key.publicKeyDer, explicit(0));
      const sig = await keystore.sign(instanceId, key.id, info, 'ecdsa-sha256');
      const csrDer = seq(info, seq(oid('1.2.840.10045.4.3.2')), bitString(sig));
      const cert = await deps.deviceCerts.issueDeviceCertificate({
        instanceId,
        issuingCaId: await deps.ensureToolsCa(instanceId, hub),
        csrDer,
        deviceId: deviceIdOf(key.publicKeyDer),
        lifetimeSeconds: 5 * 365 * 24 * 3600,
        context: SYSTEM,
      });
      await hubs.setPlatformClient(instanceId, hub.id, key.id, cert.id);
      keyId = key.id;
      certId = cert.id;
    }
    const cert = await deps.deviceCerts.get(instanceId, certId);
    return {
      username: cert.deviceId,
      certPem: toPem(cert.der),
      keyPem: await keystore.tlsPrivateKeyPem(instanceId, keyId),
    };
  }

  function pidOf(hub: StoredHub): number | undefined {
    const file = path.join(dirOf(hub), MOSQUITTO_FILES.pid);
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  }

  /** Brings the broker's files in line with the hub; signals a reload when they changed. */
  function sync(
    instanceId: string,
    hubId: string,
  ): Promise<{ changed: boolean; reloaded: boolean }> {
    return serially(`${instanceId}/${hubId}`, () => syncNow(instanceId, hubId));
  }

  async function syncNow(
    instanceId: string,
    hubId: string,
  ): Promise<{ changed: boolean; reloaded: boolean }> {
    const hub = await hubs.find(instanceId, hubId);
    if (!hub || hub.type !== 'mosquitto') return { changed: false, reloaded: false };
    const dir = dirOf(hub);
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    const platform = await platformClient(instanceId, hub);
    const cas = await deps.trustedCas(instanceId);
    const crls = await deps.crls(
      instanceId,
      cas.map((c) => c.id),
    );
    const acl = renderAcl({
      hub,
      platformUser: platform.username,
      rules: rulesOf(hub),
      clients: await deps.members(instanceId, hub),
    });
    let changed = writeIfChanged(
      path.join(dir, MOSQUITTO_FILES.caBundle),
      cas.map((c) => pemOf(c.der, 'CERTIFICATE')).join(''),
    );
    changed =
      writeIfChanged(
        path.join(dir, MOSQUITTO_FILES.crls),
        crls.map((d) => pemOf(d, 'X509 CRL')).join(''),
      ) || changed;
    changed = writeIfChanged(path.join(dir, MOSQUITTO_FILES.acl), acl) || changed;
    let reloaded = false;
    const pid = changed ? pidOf(hub) : undefined;
    if (pid) {
      try {
        process.kill(pid, 'SIGHUP');
        reloaded = true;
        log.info({ hub: hub.id, pid }, 'mosquitto: files changed; broker told to reload');
      } catch (err) {
        log.warn(
          { hub: hub.id, pid, err: (err as Error).message },
          'mosquitto: could not signal the broker',
        );
      }
    }
    return { changed, reloaded };
  }

  /** An MQTT connection to the broker as the platform's client, through the outbound guard. */
  async function connectAs(instanceId: string, hub: StoredHub, clientId: string) {
    const host = String(hub.settings.host);
    const port = Number(hub.settings.port);
    const { address } = await deps.guard.resolve(host, port);
    const platform = await platformClient(instanceId, hub);
    return mqtt.connectAsync({
      protocol: 'mqtts',
      host: address,
      port,
      servername: host,
      ca: (hub.settings.caCertificate as string | null) ?? undefined,
      cert: platform.certPem,
      key: platform.keyPem,
      clientId,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
    });
  }

  /**
   * Cuts a revoked device off: files first (its CRL entry, no ACL lines), then a session
   * take-over with a clean session, then its retained messages under its own topics are
   * cleared. Idempotent: run again, it finds nothing to take over or clear.
   */
  async function cutOff(instanceId: string, hubId: string, deviceId: string): Promise<void> {
    const hub = await hubs.find(instanceId, hubId);
    if (!hub || hub.type !== 'mosquitto') return;
    const { reloaded } = await sync(instanceId, hubId);
    if (reloaded) await new Promise((r) => setTimeout(r, reloadDelayMs));
    const client = await connectAs(instanceId, hub, deviceId);
    try {
      // Only the device's own topic spaces: shared ones may hold other clients' messages.
      const own = expandFilters(rulesOf(hub).device.publish, deviceId).filter((f) =>
        f.includes(deviceId),
      );
      const retained = new Set<string>();
      client.on('message', (topic, payload, packet) => {
        if (packet.retain && payload.length > 0) retained.add(topic);
      });
      if (own.length) {
        await client.subscribeAsync(own, { qos: 0 });
        await new Promise((r) => setTimeout(r, RETAINED_WAIT_MS));
      }
      for (const topic of retained) await client.publishAsync(topic, '', { retain: true, qos: 1 });
      log.info(
        { hub: hubId, deviceId, retainedCleared: retained.size },
        'mosquitto: revoked device cut off',
      );
    } finally {
      await client.endAsync();
    }
  }

  /** A cheap reachability check: a TLS handshake with the platform's client certificate. */
  async function check(
    instanceId: string,
    hub: StoredHub,
  ): Promise<{ ok: boolean; detail: string }> {
    try {
      const host = String(hub.settings.host);
      const port = Number(hub.settings.port);
      const { address } = await deps.guard.resolve(host, port);
      const platform = await platformClient(instanceId, hub);
      await new Promise<void>((resolve, reject) => {
        const s = tls.connect({
          host: address,
          port,
          servername: host,
          ca: (hub.settings.caCertificate as string | null) ?? undefined,
          cert: platform.certPem,
          key: platform.keyPem,
          timeout: CONNECT_TIMEOUT_MS,
        });
        s.once('secureConnect', () => {
          s.end();
          resolve();
        });
        s.once('timeout', () => {
          s.destroy();
          reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`));
        });
        s.once('error', reject);
      });
      return { ok: true, detail: `TLS handshake with ${host}:${port} succeeded` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  return { sync, cutOff, check, platformClient };
}
export type MosquittoManager = ReturnType<typeof createMosquittoManager>;
