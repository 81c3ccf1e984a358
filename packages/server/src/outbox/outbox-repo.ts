import { randomUUID } from 'node:crypto';
import type { DialectName, Executor } from '../db/database.js';

export interface OutboxEntry {
  instanceId: string;
  id: string;
  topic: string;
  subject: string;
  payload: unknown;
  status: 'pending' | 'done' | 'failed';
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  doneAt: string | null;
}

type Row = {
  instance_id: string;
  id: string;
  topic: string;
  subject: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  done_at: string | null;
};

function toEntry(r: Row): OutboxEntry {
  return {
    instanceId: r.instance_id,
    id: r.id,
    topic: r.topic,
    subject: r.subject,
    payload: JSON.parse(r.payload),
    status: r.status as OutboxEntry['status'],
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    doneAt: r.done_at,
  };
}

/** The transactional outbox: intents for outside systems, written beside the change they follow. */
export function createOutboxRepo(db: Executor, dialect: DialectName) {
  return {
    /** Writes an intent inside the caller's transaction: it exists exactly when the change does. */
    async enqueue(
      tx: Executor,
      e: { instanceId: string; topic: string; subject: string; payload: unknown },
      now: Date,
    ): Promise<string> {
      const id = randomUUID();
      await tx
        .insertInto('outbox')
        .values({
          instance_id: e.instanceId,
          id,
          topic: e.topic,
          subject: e.subject,
          payload: JSON.stringify(e.payload ?? null),
          status: 'pending',
          attempts: 0,
          next_attempt_at: now.toISOString(),
          locked_until: null,
          last_error: null,
          created_at: now.toISOString(),
          done_at: null,
        })
        .execute();
      return id;
    },

    /**
     * Leases up to `limit` due entries to one worker. On PostgreSQL, SKIP LOCKED lets replicas
     * claim side by side without waiting on or double-taking each other's rows; SQLite has one
     * writer at a time, so the UPDATE alone is atomic.
     */
    async claimDue(now: Date, leaseMs: number, limit: number): Promise<OutboxEntry[]> {
      const t = now.toISOString();
      const rows = await db
        .updateTable('outbox')
        .set((eb) => ({
          locked_until: new Date(now.getTime() + leaseMs).toISOString(),
          attempts: eb('attempts', '+', 1),
        }))
        .where(({ eb, refTuple, selectFrom }) =>
          eb(
            refTuple('instance_id', 'id'),
            'in',
            selectFrom('outbox')
              .select(['instance_id', 'id'])
              .where('status', '=', 'pending')
              .where('next_attempt_at', '<=', t)
              .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', t)]))
              .orderBy('next_attempt_at')
              .limit(limit)
              .$if(dialect === 'postgres', (q) => q.forUpdate().skipLocked())
              .$asTuple('instance_id', 'id'),
          ),
        )
        .returningAll()
        .execute();
      return rows.map(toEntry);
    },

    async markDone(instanceId: string, id: string, now: Date): Promise<void> {
      await db
        .updateTable('outbox')
        .set({ status: 'done', done_at: now.toISOString(), locked_until: null, last_error: null })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },

    async markRetry(
      instanceId: string,
      id: string,
      error: string,
      nextAttemptAt: Date,
      giveUp: boolean,
    ): Promise<void> {
      await db
        .updateTable('outbox')
        .set({
          status: giveUp ? 'failed' : 'pending',
          last_error: error.slice(0, 2000),
          next_attempt_at: nextAttemptAt.toISOString(),
          locked_until: null,
        })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },

    /**
     * Entries of these topics that gave up, whose last attempt was before `before`, oldest
     * first: for domains that start them afresh once the outside system is back.
     */
    async failedOf(topics: string[], before: Date, limit = 500): Promise<OutboxEntry[]> {
      if (!topics.length) return [];
      const rows = await db
        .selectFrom('outbox')
        .selectAll()
        .where('status', '=', 'failed')
        .where('topic', 'in', topics)
        .where('next_attempt_at', '<=', before.toISOString())
        .orderBy('created_at')
        .limit(limit)
        .execute();
      return rows.map(toEntry);
    },

    /** The latest entries about one subject, newest first (e.g. a device's hub-sync state). */
    async forSubject(instanceId: string, subject: string, limit = 20): Promise<OutboxEntry[]> {
      const rows = await db
        .selectFrom('outbox')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('subject', '=', subject)
        .orderBy('created_at', 'desc')
        .limit(limit)
        .execute();
      return rows.map(toEntry);
    },
  };
}
export type OutboxRepo = ReturnType<typeof createOutboxRepo>;
