import { randomUUID } from 'node:crypto';
import type { Executor } from '../db/database.js';
import { createSessionRepo, type SessionRecord } from './session-repo.js';
import { csrfTokenFor, hashSecret, randomToken } from './token-fns.js';

/** Sessions touched within this many seconds are not written again (one write per minute). */
const TOUCH_EVERY_SECONDS = 60;

export interface SessionPolicy {
  idleMinutes: number;
  maxHours: number;
}

export interface NewSession {
  id: string;
  /** The cookie value; only its hash is stored. */
  token: string;
  csrfToken: string;
  expiresAt: string;
}

export type SessionResolution =
  | { ok: true; session: SessionRecord; csrfToken: string }
  | { ok: false; reason: 'unknown' | 'idle-timeout' | 'expired' };

/**
 * Console sessions: a random secret in an HttpOnly cookie, its SHA-256 in the database, an idle
 * timeout and an absolute one. Everything is server-side, so sign-out and disabling a user end
 * a session at once.
 */
export function createSessionService(deps: {
  db: Executor;
  now: () => Date;
  policy: SessionPolicy;
}) {
  const { db, now, policy } = deps;
  const repo = createSessionRepo(db);
  const idleMs = policy.idleMinutes * 60_000;

  return {
    policy,
    async create(
      instanceId: string,
      userId: string,
      client: { sourceAddress: string; userAgent: string },
      tx: Executor = db,
    ): Promise<NewSession> {
      const t = now();
      const token = randomToken();
      const expiresAt = new Date(t.getTime() + policy.maxHours * 3_600_000).toISOString();
      const id = randomUUID();
      await repo.deleteExpired(
        instanceId,
        t.toISOString(),
        new Date(t.getTime() - idleMs).toISOString(),
        tx,
      );
      await repo.insert(
        instanceId,
        {
          id,
          tokenHash: hashSecret(token),
          userId,
          createdAt: t.toISOString(),
          lastSeenAt: t.toISOString(),
          expiresAt,
          sourceAddress: client.sourceAddress,
          userAgent: client.userAgent.slice(0, 300),
        },
        tx,
      );
      return { id, token, csrfToken: csrfTokenFor(token), expiresAt };
    },

    /** Finds the live session of a cookie value; an expired one is deleted on the way. */
    async resolve(instanceId: string, token: string): Promise<SessionResolution> {
      const s = await repo.findByTokenHash(instanceId, hashSecret(token));
      if (!s) return { ok: false, reason: 'unknown' };
      const t = now();
      const absolute = Date.parse(s.expiresAt) <= t.getTime();
      const idle = t.getTime() - Date.parse(s.lastSeenAt) > idleMs;
      if (absolute || idle) {
        await repo.delete(instanceId, s.id);
        return { ok: false, reason: absolute ? 'expired' : 'idle-timeout' };
      }
      if (t.getTime() - Date.parse(s.lastSeenAt) > TOUCH_EVERY_SECONDS * 1000) {
        await repo.touch(instanceId, s.id, t.toISOString());
      }
      return { ok: true, session: s, csrfToken: csrfTokenFor(token) };
    },

    revoke: (instanceId: string, sessionId: string, tx: Executor = db) =>
      repo.delete(instanceId, sessionId, tx),

    /** Ends every session of a user (password change, disable), except perhaps the caller's. */
    revokeAllForUser: (
      instanceId: string,
      userId: string,
      tx: Executor = db,
      exceptSessionId?: string,
    ) => repo.deleteForUser(instanceId, userId, exceptSessionId, tx),
  };
}
export type SessionService = ReturnType<typeof createSessionService>;
