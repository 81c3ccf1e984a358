import { Redis } from 'ioredis';
import type { BusHandler, EventBus } from './event-bus.js';

/** What travels on a Redis channel: the sender (to skip one's own) and the message. */
interface Envelope {
  from: string;
  message: unknown;
}

/**
 * The bus on Redis pub/sub: one connection publishes, one subscribes (a subscribed Redis
 * connection can do nothing else). Channels are prefixed so one Redis can serve several
 * deployments. Pub/sub keeps nothing for a replica that was disconnected: what it missed is
 * caught by the reconciles, which is why this bus may lose messages.
 */
export function createRedisBus(opts: {
  url: string;
  replicaId: string;
  prefix?: string;
  log?: { warn(obj: object, msg: string): void };
}): EventBus {
  const prefix = opts.prefix ?? 'trustlink:';
  const common = { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true };
  const pub = new Redis(opts.url, common);
  const sub = new Redis(opts.url, common);
  const handlers = new Map<string, Set<BusHandler>>();
  let warned = 0;
  const onError = (err: Error) => {
    // ioredis reconnects by itself; one warning per minute is enough for a down Redis.
    if (Date.now() - warned > 60_000) {
      warned = Date.now();
      opts.log?.warn({ err }, 'event bus: Redis connection problem (reconnecting)');
    }
  };
  pub.on('error', onError);
  sub.on('error', onError);
  sub.on('message', (channel: string, raw: string) => {
    const set = handlers.get(channel);
    if (!set) return;
    let env: Envelope;
    try {
      env = JSON.parse(raw) as Envelope;
    } catch {
      return;
    }
    if (env.from === opts.replicaId) return;
    for (const h of set) {
      try {
        h(env.message);
      } catch (err) {
        opts.log?.warn({ err, channel }, 'event bus: handler failed');
      }
    }
  });

  return {
    kind: 'redis',
    replicaId: opts.replicaId,
    async publish(channel, message) {
      const env: Envelope = { from: opts.replicaId, message };
      await pub.publish(prefix + channel, JSON.stringify(env));
    },
    subscribe(channel, handler) {
      const full = prefix + channel;
      let set = handlers.get(full);
      if (!set) {
        handlers.set(full, (set = new Set()));
        sub.subscribe(full).catch((err: Error) => onError(err));
      }
      set.add(handler);
      return () => {
        set.delete(handler);
        if (set.size === 0) {
          handlers.delete(full);
          sub.unsubscribe(full).catch(() => undefined);
        }
      };
    },
    async close() {
      handlers.clear();
      await Promise.all([endConnection(pub), endConnection(sub)]);
    },
  };
}

/**
 * Closes a Redis connection: politely (QUIT) when it is up, at once when it is not, since a
 * QUIT queued for a Redis that cannot be reached would hold a stopping server forever.
 */
export async function endConnection(r: Redis, ms = 3000): Promise<void> {
  if (r.status !== 'ready') return void r.disconnect();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    r.quit().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
  r.disconnect();
}
