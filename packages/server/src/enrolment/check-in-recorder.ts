import type { Executor } from '../db/database.js';
import type { DeviceLifecycleRepo } from '../devices/device-lifecycle-repo.js';

/** Check-ins written per transaction when a flush writes many. */
const FLUSH_CHUNK = 500;

export interface CheckInRecorderDeps {
  lifecycle: Pick<DeviceLifecycleRepo, 'touch'>;
  /**
   * Runs writes in one transaction. A fleet checking in every 20 seconds gives each device a
   * write in nearly every flush; one commit per device would cost a commit per check-in.
   */
  transaction?: <T>(fn: (tx: Executor) => Promise<T>) => Promise<T>;
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
    // The time as a number: formatting it is left to the flush, off the check-in's path.
    { instanceId: string; id: string; at: number; firmwareDigest?: string }
  >();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<number> | undefined;

  async function flush(): Promise<number> {
    if (flushing) await flushing;
    const batch = pending;
    pending = new Map();
    flushing = (async () => {
      const entries = [...batch.values()];
      for (let i = 0; i < entries.length; i += FLUSH_CHUNK) {
        const chunk = entries.slice(i, i + FLUSH_CHUNK);
        const write = async (tx?: Executor) => {
          for (const e of chunk)
            await deps.lifecycle.touch(
              e.instanceId,
              e.id,
              { at: new Date(e.at).toISOString(), firmwareDigest: e.firmwareDigest },
              tx,
            );
        };
        await (deps.transaction && chunk.length > 1 ? deps.transaction(write) : write());
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
        at: now().getTime(),
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
