import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { serialOf } from '../pki/cert-fns.js';
import type { HubClient, HubDirectory } from '../hubs/hub-directory.js';
import type { StoredHub } from '../hubs/hub-repo.js';
import type { AuditEvent } from '../audit/audit-types.js';
import {
  createHubBroker,
  createRefusingBroker,
  type HubBroker,
  type HubClientEvent,
} from './hub-broker.js';
import { actorOf, createAuditThrottle } from './mqtt-audit-fns.js';
import type { MqttFabric } from './mqtt-fabric.js';
import {
  createMqttListener,
  type MqttListener,
  type PeerCertificate,
  type TrustedCa,
} from './mqtt-listener.js';
import { accessRulesSchema, DEFAULT_RULES, type AccessRules } from './mqtt-rules-fns.js';

/** How long a connection may take from TLS to being handed to its hub's broker. */
const ROUTE_TIMEOUT_MS = 10_000;

export interface EmbeddedBrokerDeps {
  directory: HubDirectory;
  /** Instance CAs whose certificates the port accepts (root and issuing CAs, unexpired). */
  trustedCas: (instanceId: string) => Promise<TrustedCa[]>;
  findHub: (instanceId: string, hubId: string) => Promise<StoredHub | undefined>;
  /** The instance served on the port (one per deployment until SNI routing). */
  instanceId: string;
  log: Logger;
  reconcileMs: number;
  /** Writes an audit entry (connects, disconnects, refusals, evictions); none when absent. */
  record?: (event: AuditEvent) => Promise<unknown>;
  /** Audit throttling: one entry per client and event kind per this many ms (60 s). */
  auditPerClientMs?: number;
  /** Fan-out shared with other replicas (Redis); closed with this broker. Absent: one process. */
  fabric?: MqttFabric;
  /** This process's identity among replicas. */
  replicaId?: string;
}

export function rulesOf(hub: Pick<StoredHub, 'settings'>): AccessRules {
  const parsed = accessRulesSchema.safeParse(hub.settings.rules ?? DEFAULT_RULES);
  return parsed.success ? parsed.data : DEFAULT_RULES;
}

/**
 * The embedded MQTT broker of every `mqtt` hub, behind one TLS port. The client certificate
 * is mapped to its device (or tool) and so to its hub; each hub has its own aedes, so topic
 * spaces never meet. Revocations cut clients off at once (events), and a periodic pass
 * re-checks every live connection against the database in case an event was lost.
 */
export function createEmbeddedBroker(deps: EmbeddedBrokerDeps) {
  const { directory, log, instanceId } = deps;
  const brokers = new Map<string, Promise<HubBroker>>();
  let refuser: Awaited<ReturnType<typeof createRefusingBroker>> | undefined;
  let listener: MqttListener | undefined;
  let boundPort: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reconciling: Promise<void> | undefined;
  let seq = 0;
  /** The latest refused CONNECTs, newest last: why a certified client cannot get in. */
  const refusals: { at: string; reason: string }[] = [];
  const refused = (reason: string) => {
    refusals.push({ at: new Date().toISOString(), reason });
    if (refusals.length > 50) refusals.shift();
  };
  const ticket = () => ++seq;
  const throttle = createAuditThrottle({
    perKeyMs: deps.auditPerClientMs ?? 60_000,
    windowMs: 60_000,
    maxPerWindow: 600,
    now: Date.now,
  });
  /**
   * Records an audit entry unless the throttle holds it back; evictions always pass. The entry
   * may be given as a function, built only when it is written (a connection storm is mostly
   * held back, and the peer's address costs a system call).
   */
  function audit(key: string | undefined, entry: AuditEvent | (() => AuditEvent)): void {
    if (!deps.record) return;
    let details: Record<string, unknown> | undefined;
    if (key) {
      const a = throttle.admit(key);
      if (!a.record) return;
      if (a.heldBack) details = { heldBack: a.heldBack };
      if (a.heldOverall) details = { ...details, heldBackOverall: a.heldOverall };
    }
    const e = typeof entry === 'function' ? entry() : entry;
    deps
      .record({ ...e, details: { ...e.details, ...details } })
      .catch((err) => log.warn({ err, action: e.action }, 'mqtt: audit entry not written'));
  }
  function auditEvict(who: HubClient, reason: string): void {
    audit(undefined, {
      instanceId: who.instanceId,
      actor: { type: 'system', name: 'mqtt broker' },
      action: 'mqtt.client.evict',
      target: { type: who.kind, id: who.subjectId, name: who.clientId },
      result: 'ok',
      details: { hubId: who.hubId, reason },
    });
  }
  function onHubEvent(e: HubClientEvent): void {
    if (!deps.record) return;
    const base = () => ({
      instanceId,
      actor: actorOf(e.who),
      target: { type: 'hub', id: e.who.hubId },
      sourceAddress: e.address(),
    });
    const who = `${e.who.kind}:${e.who.clientId}`;
    if (e.kind === 'connect')
      audit(`connect:${who}`, () => ({
        ...base(),
        action: 'mqtt.client.connect',
        result: 'ok',
        details: { clientId: e.who.clientId, protocolVersion: e.protocolVersion },
      }));
    else if (e.kind === 'disconnect')
      audit(`disconnect:${who}`, () => ({
        ...base(),
        action: 'mqtt.client.disconnect',
        result: 'ok',
        details: { clientId: e.who.clientId },
      }));
    else
      audit(`refuse:${who}:${e.reason}`, () => ({
        ...base(),
        action: 'mqtt.client.connect',
        result: 'denied',
        details: { clientId: e.who.clientId, reason: e.reason },
      }));
  }
  const keyOf = (i: string, hubId: string) => `${i}/${hubId}`;

  function brokerFor(i: string, hub: StoredHub): Promise<HubBroker> {
    const k = keyOf(i, hub.id);
    let b = brokers.get(k);
    if (!b) {
      b = createHubBroker({
        hubId: hub.id,
        rules: rulesOf(hub),
        log,
        onEvent: onHubEvent,
        mq: deps.fabric?.forHub(i, hub.id),
        replicaId: deps.replicaId,
      });
      brokers.set(k, b);
      b.catch(() => brokers.delete(k));
    }
    return b;
  }

  async function route(socket: TLSSocket, peer: PeerCertificate): Promise<void> {
    const t = ticket();
    const refuse = (reason: string, serial?: string) => {
      log.info({ reason, issuer: peer.issuerId }, 'mqtt: connection refused');
      refused(reason);
      audit(`refuse:${peer.issuerId ?? '-'}:${serial ?? '-'}:${reason}`, {
        instanceId,
        actor: { type: 'system', name: 'mqtt broker' },
        action: 'mqtt.client.connect',
        target: serial ? { type: 'certificate', id: serial } : null,
        result: 'denied',
        sourceAddress: socket.remoteAddress ?? null,
        details: { reason, issuerId: peer.issuerId ?? null },
      });
      refuser!.handle(socket);
    };
    if (!peer.issuerId) return refuse('unknown-issuer');
    let serial: string;
    try {
      serial = peer.serial ?? serialOf(peer.der);
    } catch {
      return refuse('malformed-certificate');
    }
    const r = await directory.resolveCertificate(instanceId, peer.issuerId, serial);
    if (!r.ok) return refuse(r.reason, serial);
    if (r.hub.type !== 'mqtt') return refuse('hub-not-embedded', serial);
    if (socket.destroyed) return;
    (await brokerFor(instanceId, r.hub)).handle(socket, r.client, t);
  }

  async function evictWhere(
    match: (brokerKey: string) => boolean,
    clientId: string,
    reason: string,
  ): Promise<number> {
    const t = ticket();
    let n = 0;
    for (const [k, b] of brokers) {
      if (!match(k)) continue;
      const broker = await b;
      const who = broker.connected().find((c) => c.clientId === clientId);
      if (await broker.evict(clientId, reason, t)) {
        n++;
        if (who) auditEvict(who, reason);
      }
    }
    return n;
  }

  /** Re-checks every live connection; cuts off the ones the database no longer allows. */
  async function reconcile(): Promise<void> {
    if (reconciling) return reconciling;
    reconciling = (async () => {
      await listener?.reloadTrust().catch((err) => log.warn({ err }, 'mqtt: trust reload failed'));
      for (const [k, b] of brokers) {
        const broker = await b.catch(() => undefined);
        if (!broker) continue;
        const i = k.slice(0, k.indexOf('/'));
        const stale = await directory.stale(i, broker.connected());
        for (const [client, reason] of stale)
          if (await broker.evict(client.clientId, reason, ticket())) auditEvict(client, reason);
      }
    })().finally(() => (reconciling = undefined));
    return reconciling;
  }

  return {
    /** Opens the TLS port; returns the port bound. */
    async listen(
      host: string,
      port: number,
      tls: { certPem: string; keyPem: string },
    ): Promise<number> {
      refuser = await createRefusingBroker();
      listener = createMqttListener({
        certPem: tls.certPem,
        keyPem: tls.keyPem,
        loadTrust: () => deps.trustedCas(instanceId),
        log,
        onConnection: (socket, peer) => {
          const limit = setTimeout(() => socket.destroy(), ROUTE_TIMEOUT_MS);
          limit.unref();
          route(socket, peer)
            .catch((err) => {
              log.warn({ err }, 'mqtt: routing a connection failed');
              socket.destroy();
            })
            .finally(() => clearTimeout(limit));
        },
      });
      boundPort = await listener.listen(host, port);
      timer = setInterval(() => {
        reconcile().catch((err) => log.warn({ err }, 'mqtt: reconcile failed'));
      }, deps.reconcileMs);
      timer.unref();
      return boundPort;
    },
    /** The bound port (after listen), else undefined. */
    port: () => boundPort,
    get listening(): boolean {
      return listener?.listening ?? false;
    },
    /** Re-reads the trusted CAs now (an issuing CA was created or renewed). */
    reloadTrust: () => listener?.reloadTrust() ?? Promise.resolve(false),
    reconcile,
    /** Cuts a device off every hub of its instance: connection, session, retained messages. */
    evictDevice: (i: string, deviceId: string, reason = 'device-revoked') =>
      evictWhere((k) => k.startsWith(`${i}/`), deviceId, reason),
    /** Cuts one client of one hub off (a removed tool). */
    evictClient: (i: string, hubId: string, clientId: string, reason: string) =>
      evictWhere((k) => k === keyOf(i, hubId), clientId, reason),
    /** A hub changed: new rules apply to new connections, and current ones are closed to re-judge. */
    async hubChanged(i: string, hubId: string, kind: 'created' | 'updated' | 'deleted') {
      const k = keyOf(i, hubId);
      const b = await brokers.get(k)?.catch(() => undefined);
      if (!b) return;
      const hub = kind === 'deleted' ? undefined : await deps.findHub(i, hubId);
      if (!hub || hub.type !== 'mqtt') {
        brokers.delete(k);
        await b.disconnectAll();
        await b.close();
        return;
      }
      const next = rulesOf(hub);
      if (JSON.stringify(next) !== JSON.stringify(b.rules())) {
        b.setRules(next);
        await b.disconnectAll();
      }
    },
    /** Connections per hub (status). */
    async connections(i: string, hubId: string): Promise<number> {
      const b = await brokers.get(keyOf(i, hubId))?.catch(() => undefined);
      return b ? b.connected().length : 0;
    },
    /** The latest refused connections and why (operators' diagnostics). */
    refusals: () => [...refusals],
    /** What a hub's broker holds for a client ID (operators' diagnostics, tests). */
    async session(i: string, hubId: string, clientId: string) {
      const b = await brokers.get(keyOf(i, hubId))?.catch(() => undefined);
      return b ? b.session(clientId) : undefined;
    },
    /** Publishes a platform message (retained, QoS 1) on one embedded hub. */
    async publish(i: string, hubId: string, topic: string, payload: Buffer): Promise<void> {
      const hub = await deps.findHub(i, hubId);
      if (!hub || hub.type !== 'mqtt') throw new Error(`hub ${hubId} is not an embedded MQTT hub`);
      await (await brokerFor(i, hub)).publish(topic, payload);
    },
    async close(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await reconciling?.catch(() => undefined);
      for (const b of brokers.values()) await (await b.catch(() => undefined))?.close();
      brokers.clear();
      await refuser?.close();
      await listener?.close();
      await deps.fabric?.close();
    },
  };
}
export type EmbeddedBroker = ReturnType<typeof createEmbeddedBroker>;
