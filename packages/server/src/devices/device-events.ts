import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { EventBus } from '../bus/event-bus.js';

/** The bus channel device events travel on between replicas. */
export const DEVICE_EVENTS_CHANNEL = 'device-events';

/** What happens to a device that other parts of the server react to (brokers, caches, hubs). */
export type DeviceEvent =
  | { type: 'enrolled'; instanceId: string; deviceId: string; batchId: string }
  | { type: 'renewed'; instanceId: string; deviceId: string }
  | { type: 'revoked'; instanceId: string; deviceId: string; reason: string }
  | {
      type: 'certificate-issued';
      instanceId: string;
      deviceId: string;
      issuerId: string;
      serial: string;
    };

/** What another replica may send; anything else on the channel is ignored. */
const remoteEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('enrolled'),
    instanceId: z.string(),
    deviceId: z.string(),
    batchId: z.string(),
  }),
  z.object({ type: z.literal('renewed'), instanceId: z.string(), deviceId: z.string() }),
  z.object({
    type: z.literal('revoked'),
    instanceId: z.string(),
    deviceId: z.string(),
    reason: z.string(),
  }),
  z.object({
    type: z.literal('certificate-issued'),
    instanceId: z.string(),
    deviceId: z.string(),
    issuerId: z.string(),
    serial: z.string(),
  }),
]);

export type DeviceEventListener = (e: DeviceEvent) => void | Promise<void>;

/**
 * In-process fan-out of device events, published after the change has committed. Listeners
 * must not assume delivery: the database is the truth, and each consumer also reconciles
 * periodically (a lost event must not leave a revoked device connected). With a shared bus
 * (Redis), each event is also published to the other replicas, whose listeners run as if it
 * had happened there: a revocation on one replica closes the device's connections on all.
 */
export function createDeviceEvents(log?: { warn(obj: object, msg: string): void }, bus?: EventBus) {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(100);
  const unsubscribe = bus?.subscribe(DEVICE_EVENTS_CHANNEL, (message) => {
    const parsed = remoteEventSchema.safeParse(message);
    if (parsed.success) emitter.emit('event', parsed.data);
    else log?.warn({ issues: parsed.error.issues }, 'device event from the bus ignored');
  });
  return {
    on(listener: DeviceEventListener): () => void {
      const wrapped = (e: DeviceEvent) => {
        Promise.resolve()
          .then(() => listener(e))
          .catch((err: unknown) => log?.warn({ err, event: e }, 'device event listener failed'));
      };
      emitter.on('event', wrapped);
      return () => emitter.off('event', wrapped);
    },
    emit(e: DeviceEvent): void {
      emitter.emit('event', e);
      bus
        ?.publish(DEVICE_EVENTS_CHANNEL, e)
        .catch((err: unknown) =>
          log?.warn({ err, event: e }, 'device event not published to other replicas'),
        );
    },
    /** Stops taking events from other replicas. */
    close(): void {
      unsubscribe?.();
    },
  };
}
export type DeviceEvents = ReturnType<typeof createDeviceEvents>;
