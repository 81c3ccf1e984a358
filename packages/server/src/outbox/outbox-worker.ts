import type { Logger } from 'pino';
import type { OutboxEntry, OutboxRepo } from './outbox-repo.js';

/** Carries out one intent. Must be idempotent: an entry can run again after a crash or lease loss. */
export type OutboxHandler = (entry: OutboxEntry) => Promise<void>;

export interface OutboxWorkerOptions {
  repo: OutboxRepo;
  log: Pick<Logger, 'warn' | 'error'>;
  now?: () => Date;
  /** How long a claimed entry stays with this worker before another may take it. */
  leaseMs?: number;
  batchSize?: number;
  /** Attempts before an entry is marked failed. */
  maxAttempts?: number;
}

/** Exponential backoff: 2 s, 4 s, 8 s ... capped at 10 minutes. */
export function backoffMs(attempts: number): number {
  return Math.min(2 ** attempts * 1000, 10 * 60_000);
}

/**
 * Runs outbox entries by topic. Network calls happen here, never inside the transaction that
 * wrote the entry; failures are retried with backoff and recorded on the entry.
 */
export function createOutboxWorker(opts: OutboxWorkerOptions) {
  const handlers = new Map<string, OutboxHandler>();
  const now = opts.now ?? (() => new Date());
  const leaseMs = opts.leaseMs ?? 60_000;
  const batchSize = opts.batchSize ?? 50;
  const maxAttempts = opts.maxAttempts ?? 12;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  /** A kick came while a run was under way: run once more after it. */
  let again = false;

  async function runEntry(entry: OutboxEntry): Promise<void> {
    const handler = handlers.get(entry.topic);
    try {
      if (!handler) throw new Error(`no handler for topic ${entry.topic}`);
      await handler(entry);
      await opts.repo.markDone(entry.instanceId, entry.id, now());
    } catch (err) {
      const giveUp = entry.attempts >= maxAttempts;
      const message = (err as Error)?.message ?? String(err);
      // Called on the logger: pino's methods need it as `this`.
      opts.log[giveUp ? 'error' : 'warn'](
        { outbox: entry.id, topic: entry.topic, attempts: entry.attempts, err: message },
        giveUp ? 'outbox entry failed for good' : 'outbox entry failed; will retry',
      );
      await opts.repo.markRetry(
        entry.instanceId,
        entry.id,
        message,
        new Date(now().getTime() + backoffMs(entry.attempts)),
        giveUp,
      );
    }
  }

  /** Claims and runs what is due once; returns how many entries ran. */
  async function runOnce(): Promise<number> {
    if (running) return running;
    running = (async () => {
      const entries = await opts.repo.claimDue(now(), leaseMs, batchSize);
      for (const e of entries) await runEntry(e);
      return entries.length;
    })();
    try {
      return await running;
    } finally {
      running = undefined;
    }
  }

  return {
    register(topic: string, handler: OutboxHandler) {
      if (handlers.has(topic)) throw new Error(`outbox topic ${topic} already has a handler`);
      handlers.set(topic, handler);
    },
    runOnce,
    /**
     * Runs what is due now rather than at the next tick, when the worker is started (tests
     * that drive the outbox themselves stop it): for intents whose effect a device may need at
     * once, such as its new certificate on a cloud hub.
     */
    kick(): void {
      if (!timer) return;
      // A run under way may have claimed before the kicker's intent committed: one more run
      // after it (however many kicks came meanwhile) picks it up.
      if (running) {
        if (!again) {
          again = true;
          void running.finally(() => {
            again = false;
            if (timer) runOnce().catch((err) => opts.log.error({ err }, 'outbox run failed'));
          });
        }
        return;
      }
      runOnce().catch((err) => opts.log.error({ err }, 'outbox run failed'));
    },
    start(intervalMs = 2000) {
      timer = setInterval(() => {
        runOnce().catch((err) => opts.log.error({ err }, 'outbox run failed'));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
export type OutboxWorker = ReturnType<typeof createOutboxWorker>;
