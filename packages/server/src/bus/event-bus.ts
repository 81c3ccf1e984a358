import { EventEmitter } from 'node:events';

/** A handler of messages on one channel; messages are plain JSON values. */
export type BusHandler = (message: unknown) => void;

/**
 * Messages between the processes of one deployment (replicas on one database). Delivery is
 * at most once and may fail silently: every consumer keeps a periodic reconcile against the
 * database, so a lost message delays an effect, never cancels it. A replica does not get its
 * own messages back (it acted on them locally before publishing).
 */
export interface EventBus {
  /** `memory` for one process; `redis` when replicas share one. */
  readonly kind: 'memory' | 'redis';
  /** This process's identity on the bus (also in every message it publishes). */
  readonly replicaId: string;
  publish(channel: string, message: unknown): Promise<void>;
  /** Calls `handler` for messages other replicas publish on `channel`; returns an unsubscribe. */
  subscribe(channel: string, handler: BusHandler): () => void;
  close(): Promise<void>;
}

/**
 * The single-process bus: there is no other replica, so nothing is delivered to anyone (a
 * process never receives its own messages). Keeps callers free of "is there a bus" branches.
 */
export function createMemoryBus(replicaId: string): EventBus {
  const emitter = new EventEmitter();
  return {
    kind: 'memory',
    replicaId,
    async publish() {},
    subscribe(channel, handler) {
      emitter.on(channel, handler);
      return () => emitter.off(channel, handler);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}
