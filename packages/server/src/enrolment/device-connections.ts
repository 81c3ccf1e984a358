import type { Socket } from 'node:net';
import type { DeviceState } from '../devices/device-repo.js';

export interface DeviceConnectionsDeps {
  /** Current states of some devices of an instance (for the periodic reconcile). */
  states(instanceId: string, ids: string[]): Promise<Map<string, DeviceState>>;
  log?: { warn(obj: object, msg: string): void };
  /** How often tracked devices are checked against the database. */
  reconcileMs?: number;
}

/**
 * The open connections of authenticated devices on the device port, by device. Revoking a
 * device closes them at once, so a kept-alive connection cannot carry one more request; a
 * periodic reconcile closes those of devices revoked where this process did not hear of it
 * (another replica, a lost event).
 */
export function createDeviceConnections(deps: DeviceConnectionsDeps) {
  const byDevice = new Map<string, Set<Socket>>();
  const key = (instanceId: string, deviceId: string) => `${instanceId}/${deviceId}`;
  let timer: NodeJS.Timeout | undefined;

  function close(instanceId: string, deviceId: string): number {
    const k = key(instanceId, deviceId);
    const sockets = byDevice.get(k);
    byDevice.delete(k);
    for (const s of sockets ?? []) s.destroy();
    return sockets?.size ?? 0;
  }

  async function reconcile(): Promise<number> {
    const perInstance = new Map<string, string[]>();
    for (const k of byDevice.keys()) {
      const [instanceId, deviceId] = k.split('/') as [string, string];
      perInstance.set(instanceId, [...(perInstance.get(instanceId) ?? []), deviceId]);
    }
    let closed = 0;
    for (const [instanceId, ids] of perInstance) {
      const states = await deps.states(instanceId, ids);
      for (const id of ids) {
        const state = states.get(id);
        if (state === undefined || state === 'revoked') closed += close(instanceId, id);
      }
    }
    return closed;
  }

  return {
    /** Remembers a connection as the device's until it closes. */
    track(instanceId: string, deviceId: string, socket: Socket): void {
      const k = key(instanceId, deviceId);
      let set = byDevice.get(k);
      if (!set) byDevice.set(k, (set = new Set()));
      if (set.has(socket)) return;
      set.add(socket);
      socket.once('close', () => {
        const s = byDevice.get(k);
        s?.delete(socket);
        if (s && s.size === 0) byDevice.delete(k);
      });
    },
    /** Closes every tracked connection of a device; returns how many. */
    close,
    reconcile,
    count: (instanceId: string, deviceId: string) =>
      byDevice.get(key(instanceId, deviceId))?.size ?? 0,
    start() {
      if (timer) return;
      timer = setInterval(() => {
        reconcile().catch((err: unknown) =>
          deps.log?.warn({ err }, 'device connection reconcile failed; will retry'),
        );
      }, deps.reconcileMs ?? 30_000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
export type DeviceConnections = ReturnType<typeof createDeviceConnections>;
