import { EventEmitter } from 'node:events';

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

export type DeviceEventListener = (e: DeviceEvent) => void | Promise<void>;

/**
 * In-process fan-out of device events, published after the change has committed. Listeners
 * must not assume delivery: the database is the truth, and each consumer also reconciles
 * periodically (a lost event must not leave a revoked device connected). Replicas share these
 * events through a broker fabric (scale-out work) behind the same interface.
 */
export function createDeviceEvents(log?: { warn(obj: object, msg: string): void }) {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(100);
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
    },
  };
}
export type DeviceEvents = ReturnType<typeof createDeviceEvents>;
