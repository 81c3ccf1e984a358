import type { DeviceLifecycleRepo } from '../devices/device-lifecycle-repo.js';

export interface CheckInRecorderDeps {
  lifecycle: Pick<DeviceLifecycleRepo, 'touch'>;
  now?: () => Date;
  log?: { warn(obj: object, msg: string): void };
  /** How often gathered check-ins are written. */
  flushMs?: number;
}

/**
 * Last-seen times and reported firmware digests, gathered in memory and written every few
 * seconds, so the most frequent request of a fleet costs no write of its own. A crash loses at
 * most one interval of last-seen times, which the next check-ins restore.
 */
export function createCheckInRecorder(deps: CheckInRecorderDeps) {
  const now = deps.now ?? (() => new Date());
  let pending = new Map<
    string,
    { instanceId: string; id: string; at: string; firmwareDigest?: string }
  >();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<number> | undefined;

  async function flush(): Promise<number> {
    if (flushing) await flushing;
    const batch = pending;
    pending = new Map();
    flushing = (async () => {
      for (const e of batch.values()) {
        await deps.lifecycle.touch(e.instanceId, e.id, {
          at: e.at,
          firmwareDigest: e.firmwareDigest,
        });
      }
      return batch.size;
    })();
    try {
      return await flushing;
    } finally {
      flushing = undefined;
    }
  }

  return {
    record(instanceId: string, id: string, firmwareDigest?: string): void {
      const k = `${instanceId}/${id}`;
      const prev = pending.get(k);
      pending.set(k, {
        instanceId,
        id,
        at: now().toISOString(),
        firmwareDigest: firmwareDigest ?? prev?.firmwareDigest,
      });
    },
    flush,
    start() {
      if (timer) return;
      timer = setInterval(() => {
        flush().catch((err: unknown) => deps.log?.warn({ err }, 'writing check-in times failed'));
      }, deps.flushMs ?? 5000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await flush().catch(() => undefined);
    },
  };
}
export type CheckInRecorder = ReturnType<typeof createCheckInRecorder>;
