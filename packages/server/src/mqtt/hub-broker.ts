import type { Duplex } from 'node:stream';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import type { HubClient } from '../hubs/hub-directory.js';
import { compileRules, parseSharedFilter, type AccessRules } from './mqtt-rules-fns.js';
import { createShareGroups } from './mqtt-share-fns.js';
import type { FabricPacket, HubEmitter } from './mqtt-fabric.js';

/** CONNACK return codes of MQTT 3.1.1 (§3.2.2.3); aedes maps them to MQTT 5 reason codes. */
const IDENTIFIER_REJECTED = 2;
const NOT_AUTHORIZED = 5;

/** Shared subscriptions are served by this layer (see `rewriteShared`), for 3.1.1 and 5. */
const SHARED_SUBSCRIPTIONS = true;

/** What a hub broker reports for the audit log; the peer's address is read when asked for. */
export type HubClientEvent =
  | { kind: 'connect'; who: HubClient; protocolVersion: number; address: () => string | null }
  | { kind: 'disconnect'; who: HubClient; address: () => string | null }
  | { kind: 'refuse'; who: HubClient; reason: string; address: () => string | null };

/** The parts of an aedes client this file reaches into (aedes types them loosely). */
interface ClientInternals {
  version?: number;
  clean?: boolean;
  _parser: { prependListener(ev: 'packet', fn: (p: RawPacket) => void): void };
}
interface RawPacket {
  cmd: string;
  subscriptions?: { topic: string; rh?: number }[];
  unsubscriptions?: string[];
}

/**
 * Stops a broker that shares no fabric from publishing its `$SYS/<id>/new/...` and
 * `$SYS/<id>/disconnect/...` notices (a client connected or left, subscribed, unsubscribed).
 * aedes publishes one on every connect and disconnect; no client here can read them (the
 * access rules refuse `$` filters), and aedes itself acts only on those of *other* brokers
 * (client takeover across replicas), so alone they cost a publish through the topic tree per
 * connection for nothing. The heartbeat stays: aedes publishes stored wills of brokers whose
 * heartbeat it no longer sees. With a fabric everything is kept: the replicas rely on it.
 */
export function dropClientNotices(broker: Aedes): void {
  const added = `$SYS/${broker.id}/new/`;
  const gone = `$SYS/${broker.id}/disconnect/`;
  const publish = broker.publish.bind(broker) as (...args: unknown[]) => void;
  (broker as unknown as { publish: (...args: unknown[]) => void }).publish = (
    packet: unknown,
    client?: unknown,
    done?: unknown,
  ) => {
    const topic = (packet as { topic?: unknown }).topic;
    // Every client publish passes here too: one character decides for all of them.
    if (
      typeof topic === 'string' &&
      topic.charCodeAt(0) === 36 && // '$'
      (topic.startsWith(added) || topic.startsWith(gone))
    ) {
      const cb = typeof client === 'function' ? client : done;
      if (typeof cb === 'function') process.nextTick(cb as () => void);
      return;
    }
    publish(packet, client, done);
  };
}

/** mqtt-packet's parser as far as `slimParser` touches it. */
export interface ParserBuffer {
  _list?: { length: number; constructor: { BufferList?: new () => unknown } };
}

/**
 * mqtt-packet's parser keeps its unparsed bytes in a `bl` BufferListStream, a full duplex
 * stream (two stream states and their listeners) per connection that the parser only ever
 * appends to and reads from. The plain BufferList of the same module has those methods
 * (the stream copies them from it); swapping it in before the first byte arrives saves that
 * memory on every held connection. A parser that has started, or another `bl`, is left as is.
 */
export function slimParser(parser: ParserBuffer): void {
  const list = parser._list;
  const Plain = list?.constructor.BufferList;
  if (list && Plain && list.length === 0) parser._list = new Plain() as ParserBuffer['_list'];
}

function refusal(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** A connection's client and the ticket taken before its certificate was looked up. */
interface Admitted {
  who: HubClient;
  ticket: number;
}

/**
 * One hub's broker: its own aedes, so its topic space, retained messages and sessions are
 * reachable from no other hub. The TLS listener has already mapped the client certificate to
 * a `HubClient` of this hub; here the client ID is checked against it and every publish and
 * subscription against the hub's rules.
 */
export async function createHubBroker(opts: {
  hubId: string;
  rules: AccessRules;
  log: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** Connects, disconnects and refusals, for the audit log. */
  onEvent?: (e: HubClientEvent) => void;
  /**
   * The hub's view of the fabric replicas share (mqtt-fabric.ts): messages published on any
   * replica reach this hub's subscribers here. Absent: this process alone.
   */
  mq?: HubEmitter;
  /** Tells this replica's broker from the same hub's broker on other replicas. */
  replicaId?: string;
}) {
  const log = opts.log;
  const emit = (e: HubClientEvent) => {
    try {
      opts.onEvent?.(e);
    } catch (err) {
      log.warn({ err }, 'mqtt: event handler failed');
    }
  };
  const addressOf = (c: Client | null) => () =>
    ((c?.conn as { remoteAddress?: string } | undefined)?.remoteAddress ?? null) || null;
  const shares = createShareGroups();
  /**
   * Per message (aedes' broker counter: each subscriber may get its own packet object), the
   * member each matching group chose, so all members agree. Only recent messages are kept.
   */
  const choices = new Map<string, Map<string, string | undefined>>();
  let rules = opts.rules;
  let compiled = compileRules(rules);
  const admitted = new WeakMap<Duplex, Admitted>();
  /** Who published each retained message, so a revoked client's can be dropped. */
  const retainedBy = new Map<string, string>();
  /**
   * The ticket of each client ID's latest eviction. A connection whose lookup began before
   * that (its ticket is lower) may have read the database before the revocation committed, so
   * it is refused or cut off; lookups that began after it saw the revocation themselves.
   */
  const evictedAt = new Map<string, number>();

  // Each replica's broker of a hub has its own ID: aedes tells its own messages from other
  // brokers' by it (duplicate suppression, a client ID taken over on another replica).
  const broker = await Aedes.createBroker({
    id: opts.replicaId ? `hub-${opts.hubId}-${opts.replicaId}` : `hub-${opts.hubId}`,
    ...(opts.mq ? { mq: opts.mq } : {}),
  });
  const clients = (broker as unknown as { clients: Record<string, Client> }).clients;
  if (!opts.mq) dropClientNotices(broker);
  const entry = (c: Client | null) => (c ? admitted.get(c.conn as Duplex) : undefined);
  const cutOff = (a: Admitted) => (evictedAt.get(a.who.clientId) ?? -1) >= a.ticket;
  /** The client of a connection that may still act, or undefined. */
  const identity = (c: Client | null): HubClient | undefined => {
    const a = entry(c);
    return a && !cutOff(a) ? a.who : undefined;
  };

  broker.authenticate = (client, _user, _pass, done) => {
    const a = entry(client);
    const who = identity(client);
    if (!who) {
      if (a) emit({ kind: 'refuse', who: a.who, reason: 'cut-off', address: addressOf(client) });
      return done(refusal('not authorized', NOT_AUTHORIZED), false);
    }
    // The certificate decides the client ID; a device cannot pose as another on the hub.
    if (client.id !== who.clientId) {
      emit({ kind: 'refuse', who, reason: 'client-id-mismatch', address: addressOf(client) });
      log.info(
        { hub: opts.hubId, clientId: client.id, expected: who.clientId },
        'mqtt: client ID does not match the certificate',
      );
      return done(refusal('identifier rejected', IDENTIFIER_REJECTED), false);
    }
    done(null, true);
  };

  broker.authorizePublish = (client, packet, done) => {
    const who = identity(client);
    if (!who) return done(new Error('not authorized'));
    const r = compiled.publish(who.kind, who.clientId, packet.topic);
    if (!r.ok) {
      log.info(
        { hub: opts.hubId, clientId: who.clientId, topic: packet.topic, reason: r.reason },
        'mqtt: publish refused',
      );
      // MQTT 3.1.1 has no negative PUBACK: aedes closes the connection (MQTT-3.3.5-2).
      // MQTT 5 clients get PUBACK 0x87 (QoS 1) or a dropped message (QoS 0) and stay.
      return done(new Error(`publish to ${packet.topic} refused: ${r.reason}`));
    }
    if (packet.retain) {
      if (packet.payload.length === 0) retainedBy.delete(packet.topic);
      else retainedBy.set(packet.topic, who.clientId);
    }
    done(null);
  };

  broker.authorizeSubscribe = (client, sub, done) => {
    const who = identity(client);
    if (!who) return done(null, null);
    // Valid shared filters were rewritten on arrival (rewriteShared); one left is malformed
    // or repeats another filter of its SUBSCRIBE.
    const r = sub.topic.startsWith('$share/')
      ? ({ ok: false, reason: 'malformed' } as const)
      : compiled.subscribe(who.kind, who.clientId, sub.topic, {
          sharedSubscriptions: SHARED_SUBSCRIPTIONS,
        });
    if (!r.ok) {
      log.info(
        { hub: opts.hubId, clientId: who.clientId, filter: sub.topic, reason: r.reason },
        'mqtt: subscription refused',
      );
      shares.unmark(who.clientId, sub.topic);
      return done(null, null); // SUBACK 0x80 for this filter; the connection stays
    }
    done(null, sub);
  };

  broker.authorizeForward = (client, packet) => {
    const who = identity(client);
    if (!who) return null;
    if (!shares.active) return packet;
    return shares.receives(who.clientId, packet.topic, (g, f) =>
      chosen(packet as { brokerCounter?: number }, g, f),
    )
      ? packet
      : null;
  };

  function chosen(
    packet: { brokerCounter?: number },
    group: string,
    filter: string,
  ): string | undefined {
    // Counters are per broker: with replicas, one from another broker is a different message.
    const counter =
      packet.brokerCounter === undefined
        ? undefined
        : `${(packet as { brokerId?: string }).brokerId ?? ''}:${packet.brokerCounter}`;
    if (counter === undefined) return shares.pick(group, filter, (id) => Boolean(clients[id]));
    let m = choices.get(counter);
    if (!m) {
      choices.set(counter, (m = new Map()));
      if (choices.size > 4096) choices.delete(choices.keys().next().value!);
    }
    const k = `${group}\u0000${filter}`;
    if (!m.has(k))
      m.set(
        k,
        shares.pick(group, filter, (id) => Boolean(clients[id])),
      );
    return m.get(k);
  }

  /**
   * aedes has no shared subscriptions (2.x refuses `$share` from MQTT 5 clients, 1.x took it
   * as a literal filter). Before aedes sees a decoded SUBSCRIBE or UNSUBSCRIBE, each
   * `$share/<group>/<filter>` becomes a plain subscription to `<filter>`, recorded as a group
   * member: `authorizeSubscribe` then judges the filter by the hub's rules like any other, and
   * `authorizeForward` hands each message to one connected member per group. Retained
   * messages are not sent on a shared subscription (MQTT 5 §4.8.2, Retain Handling 2).
   */
  function rewriteShared(clientId: string, packet: RawPacket): void {
    if (packet.cmd === 'subscribe') {
      const subs = packet.subscriptions ?? [];
      const plainOf = (t: string) => {
        const s = parseSharedFilter(t);
        return s.shared === true ? s.filter : t;
      };
      const count = new Map<string, number>();
      for (const sub of subs)
        count.set(plainOf(sub.topic), (count.get(plainOf(sub.topic)) ?? 0) + 1);
      for (const sub of subs) {
        const s = parseSharedFilter(sub.topic);
        // aedes merges equal filters of one SUBSCRIBE: a shared filter whose plain form is
        // also asked for stays as it is, and is refused, so every filter gets its own answer.
        if (s.shared === true && count.get(s.filter)! > 1) continue;
        if (s.shared === true) {
          sub.topic = s.filter;
          sub.rh = 2;
          shares.mark(clientId, s.filter, s.group);
        } else if (s.shared === false) shares.mark(clientId, sub.topic, null);
      }
    } else if (packet.cmd === 'unsubscribe' && packet.unsubscriptions) {
      packet.unsubscriptions = packet.unsubscriptions.map((f) => {
        const s = parseSharedFilter(f);
        const plain = s.shared === true ? s.filter : f;
        shares.unmark(clientId, plain);
        return plain;
      });
    }
  }

  broker.on('client', (client) => {
    const who = identity(client);
    const c = client as unknown as ClientInternals;
    if (who)
      emit({ kind: 'connect', who, protocolVersion: c.version ?? 4, address: addressOf(client) });
  });
  broker.on('clientDisconnect', (client) => {
    const a = entry(client);
    if (!a) return;
    if ((client as unknown as ClientInternals).clean !== false) shares.drop(a.who.clientId);
    emit({ kind: 'disconnect', who: a.who, address: addressOf(client) });
  });

  const liveClients = (): Client[] => Object.values(clients);

  /** Closes a client without publishing its will (a cut-off client's last word is dropped). */
  function closeQuietly(c: Client): Promise<void> {
    (c as unknown as { will: unknown; _will: unknown }).will = null;
    (c as unknown as { will: unknown; _will: unknown })._will = null;
    return new Promise((resolve) => c.close(() => resolve()));
  }

  /** The persistence calls used here (aedes-persistence's API, untyped in aedes). */
  const p = (broker as unknown as { persistence: unknown }).persistence as {
    delWill(c: { id: string; brokerId: string }): Promise<unknown>;
    cleanSubscriptions(c: { id: string }): Promise<void>;
    cleanIncoming?(c: { id: string }): Promise<void>;
    subscriptionsByClient(c: { id: string }): Promise<{ topic: string }[] | null>;
    outgoingStream(c: { id: string }): AsyncIterable<{ messageId?: number }>;
    outgoingClearMessageId(c: { id: string }, p: { messageId?: number }): Promise<unknown>;
    storeRetained(p: object): Promise<void>;
    createRetainedStream(pattern: string): AsyncIterable<{ topic: string }>;
  };

  /** Drops a client ID's persisted session: will, subscriptions, queued and in-flight messages. */
  async function purgeSession(clientId: string): Promise<void> {
    const ref = { id: clientId, brokerId: broker.id };
    await p.delWill(ref).catch(() => undefined);
    await p.cleanSubscriptions(ref);
    await p.cleanIncoming?.(ref);
    // The queue is cleared one entry per call (the persistence API has no bulk delete).
    const queued: { messageId?: number }[] = [];
    for await (const packet of p.outgoingStream(ref)) queued.push(packet);
    for (const packet of queued) await p.outgoingClearMessageId(ref, packet);
    for (const [topic, publisher] of [...retainedBy]) {
      if (publisher !== clientId) continue;
      await p.storeRetained({
        cmd: 'publish',
        topic,
        payload: Buffer.alloc(0),
        qos: 0,
        retain: true,
      });
      retainedBy.delete(topic);
    }
  }

  // A retained message published on another replica is kept here too, so a client that
  // subscribes on this replica later still gets it (aedes stores only what its own clients
  // publish). Its publisher is remembered so evicting that client drops it here as well.
  const keepRemoteRetained = (packet: FabricPacket, done: () => void) => {
    const from = packet.brokerId as string | undefined;
    if (!packet.retain || !from || from === broker.id || packet.topic.startsWith('$SYS/'))
      return done();
    const publisher = packet.clientId as string | undefined;
    if (Buffer.byteLength((packet.payload as Buffer | undefined) ?? '') === 0)
      retainedBy.delete(packet.topic);
    else if (publisher) retainedBy.set(packet.topic, publisher);
    p.storeRetained(packet).then(
      () => done(),
      (err: unknown) => {
        log.warn({ err, hub: opts.hubId }, 'mqtt: retained message from a replica not kept');
        done();
      },
    );
  };
  if (opts.mq) await new Promise<void>((resolve) => opts.mq!.on('#', keepRemoteRetained, resolve));

  return {
    hubId: opts.hubId,
    /** Serves one TLS connection whose certificate belongs to `who` on this hub. */
    handle(socket: Duplex, who: HubClient, ticket: number): void {
      admitted.set(socket, { who, ticket });
      const client = broker.handle(socket) as unknown as ClientInternals;
      slimParser(client._parser as ParserBuffer);
      // The parser belongs to aedes (pinned version): this listener runs before aedes'.
      client._parser.prependListener('packet', (p) => rewriteShared(who.clientId, p));
    },
    rules: (): AccessRules => rules,
    setRules(next: AccessRules): void {
      rules = next;
      compiled = compileRules(next);
    },
    /** The identities of the connected clients. */
    connected(): HubClient[] {
      return liveClients()
        .map((c) => entry(c)?.who)
        .filter((w): w is HubClient => w !== undefined);
    },
    /** Closes every connection (e.g. after the rules changed, so subscriptions are re-judged). */
    async disconnectAll(): Promise<void> {
      await Promise.all(liveClients().map((c) => new Promise<void>((r) => c.close(() => r()))));
    },
    /**
     * Cuts a client off: closes its connection without its will, and drops its session,
     * queued messages and the retained messages it published. Idempotent.
     */
    async evict(clientId: string, reason: string, ticket: number): Promise<boolean> {
      evictedAt.set(clientId, ticket);
      const live = clients[clientId];
      if (live) {
        log.info({ hub: opts.hubId, clientId, reason }, 'mqtt: disconnecting client');
        await closeQuietly(live);
      }
      await purgeSession(clientId);
      shares.drop(clientId);
      return Boolean(live);
    },
    /** What the broker holds for a client ID: live connection, stored subscriptions, queue. */
    async session(clientId: string) {
      const ref = { id: clientId };
      let queued = 0;
      for await (const _ of p.outgoingStream(ref)) queued++;
      const retained: string[] = [];
      for await (const packet of p.createRetainedStream('#')) retained.push(packet.topic);
      return {
        connected: Boolean(clients[clientId]),
        subscriptions: ((await p.subscriptionsByClient(ref)) ?? []).map((x) => x.topic),
        queued,
        retainedByClient: retained.filter((t) => retainedBy.get(t) === clientId),
      };
    },
    /**
     * Publishes as the platform (not a client: no access rules apply), retained and QoS 1, so
     * a subscriber that connects later still gets the latest message on the topic.
     */
    publish(topic: string, payload: Buffer): Promise<void> {
      return new Promise((resolve, reject) =>
        broker.publish(
          { cmd: 'publish', topic, payload, qos: 1, retain: true, dup: false },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    },
    async close(): Promise<void> {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
export type HubBroker = Awaited<ReturnType<typeof createHubBroker>>;

/**
 * A broker that refuses every CONNECT with "not authorized": connections whose certificate
 * maps to no usable client (revoked, unknown, another hub type) get a proper CONNACK instead
 * of a dropped socket.
 */
export async function createRefusingBroker() {
  const broker = await Aedes.createBroker({ id: 'refuser' });
  broker.authenticate = (_c, _u, _p, done) =>
    done(refusal('not authorized', NOT_AUTHORIZED), false);
  return {
    handle: (socket: Duplex) => broker.handle(socket),
    close: () => new Promise<void>((resolve) => broker.close(() => resolve())),
  };
}
