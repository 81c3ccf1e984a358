import { createRequire } from 'node:module';
import { Redis } from 'ioredis';

/** A message as aedes hands it to its emitter (an aedes packet). */
export type FabricPacket = Record<string, unknown> & { topic: string };
type Listener = (packet: FabricPacket, done: () => void) => void;

/** The emitter interface aedes uses (`mq` option): subscribe, unsubscribe, publish, close. */
export interface HubEmitter {
  on(topic: string, listener: Listener, done?: () => void): HubEmitter;
  removeListener(topic: string, listener: Listener, done?: () => void): void;
  emit(packet: FabricPacket, done?: (err?: Error) => void): void;
  close(cb: () => void): void;
}

/** mqemitter-redis (CommonJS, untyped beyond this). */
interface RedisEmitter {
  on(topic: string, listener: Listener, done?: () => void): unknown;
  removeListener(topic: string, listener: Listener, done?: () => void): void;
  emit(packet: FabricPacket, done?: (err?: Error) => void): void;
  close(cb: () => void): void;
  _subTopic(topic: string): string;
  _containsWildcard(topic: string): boolean;
  state: { on(ev: 'error', fn: (err: Error) => void): void };
}

/**
 * The message fabric the embedded brokers of all replicas share: one mqemitter-redis (two
 * Redis connections) per process, and per hub a view of it under the hub's own prefix, so
 * a topic of one hub can never reach a subscriber of another, here or on another replica.
 */
export function createMqttFabric(opts: {
  url: string;
  /** Channel prefix, so one Redis can serve several deployments. */
  prefix?: string;
  log?: { warn(obj: object, msg: string): void };
}) {
  const require = createRequire(import.meta.url);
  const MQEmitterRedis = require('mqemitter-redis') as (o: object) => RedisEmitter;
  // The connections are ours, so a stop can drop them when Redis is unreachable (the
  // emitter's own close waits for a QUIT that would never be answered).
  const subConn = new Redis(opts.url, { enableAutoPipelining: true });
  const pubConn = new Redis(opts.url, { enableAutoPipelining: true });
  const inner = MQEmitterRedis({
    subConn,
    pubConn,
    // As aedes configures its own emitter: `a/#` also matches `a` (MQTT-4.7.1-3).
    matchEmptyLevels: true,
    concurrency: 100,
  });
  let warned = 0;
  inner.state.on('error', (err) => {
    if (Date.now() - warned > 60_000) {
      warned = Date.now();
      opts.log?.warn({ err }, 'mqtt fabric: Redis connection problem (reconnecting)');
    }
  });
  // Redis patterns are globs: `*`, `?`, `[` and `\` in a client's filter would otherwise
  // change what the pattern matches. Escaped, the pattern can only match more than the
  // filter (each MQTT wildcard becomes `*`), and the emitter's own matcher then decides.
  const subTopic = inner._subTopic.bind(inner);
  inner._subTopic = (topic: string) =>
    inner._containsWildcard(topic)
      ? subTopic(topic.replace(/[\\*?[\]]/g, '\\$&'))
      : subTopic(topic);
  const base = opts.prefix ?? 'trustlink/mqtt/';

  return {
    /** The emitter of one hub: topics live under `<prefix><instance>/<hub>/`. */
    forHub(instanceId: string, hubId: string): HubEmitter {
      const ns = `${base}${instanceId}/${hubId}/`;
      const wrappers = new Map<Listener, Map<string, Listener>>();
      const view: HubEmitter = {
        on(topic, listener, done) {
          const w: Listener = (packet, cb) =>
            listener({ ...packet, topic: packet.topic.slice(ns.length) }, cb);
          let m = wrappers.get(listener);
          if (!m) wrappers.set(listener, (m = new Map()));
          m.set(topic, w);
          inner.on(ns + topic, w, done);
          return view;
        },
        removeListener(topic, listener, done) {
          const m = wrappers.get(listener);
          const w = m?.get(topic);
          if (!w) {
            if (done) setImmediate(done);
            return;
          }
          m!.delete(topic);
          if (m!.size === 0) wrappers.delete(listener);
          inner.removeListener(ns + topic, w, done);
        },
        emit(packet, done) {
          inner.emit({ ...packet, topic: ns + packet.topic }, done);
        },
        // Closing a hub's broker leaves the shared emitter open for the other hubs.
        close(cb) {
          for (const [listener, m] of [...wrappers])
            for (const topic of [...m.keys()]) view.removeListener(topic, listener);
          setImmediate(cb);
        },
      };
      return view;
    },
    async close(): Promise<void> {
      const up = subConn.status === 'ready' && pubConn.status === 'ready';
      let timer: NodeJS.Timeout | undefined;
      const closed = new Promise<void>((resolve) => inner.close(() => resolve()));
      if (!up) {
        subConn.disconnect();
        pubConn.disconnect();
      }
      await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, 3000)))]);
      clearTimeout(timer);
      subConn.disconnect();
      pubConn.disconnect();
    },
  };
}
export type MqttFabric = ReturnType<typeof createMqttFabric>;
