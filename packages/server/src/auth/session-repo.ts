import type { Executor } from '../db/database.js';

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  sourceAddress: string;
  userAgent: string;
}

type Row = {
  id: string;
  user_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  source_address: string;
  user_agent: string;
};
const toRecord = (r: Row): SessionRecord => ({
  id: r.id,
  userId: r.user_id,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
  sourceAddress: r.source_address,
  userAgent: r.user_agent,
});
const COLUMNS = [
  'id',
  'user_id',
  'created_at',
  'last_seen_at',
  'expires_at',
  'source_address',
  'user_agent',
] as const;

/** Console sessions; looked up by the hash of the cookie's secret. */
export function createSessionRepo(db: Executor) {
  return {
    async insert(
      instanceId: string,
      s: SessionRecord & { tokenHash: string },
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .insertInto('sessions')
        .values({
          instance_id: instanceId,
          id: s.id,
          token_hash: s.tokenHash,
          user_id: s.userId,
          created_at: s.createdAt,
          last_seen_at: s.lastSeenAt,
          expires_at: s.expiresAt,
          source_address: s.sourceAddress,
          user_agent: s.userAgent,
        })
        .execute();
    },
    async findByTokenHash(instanceId: string, tokenHash: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('sessions')
        .select(COLUMNS)
        .where('instance_id', '=', instanceId)
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },
    async touch(instanceId: string, id: string, at: string, tx: Executor = db): Promise<void> {
      await tx
        .updateTable('sessions')
        .set({ last_seen_at: at })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    async delete(instanceId: string, id: string, tx: Executor = db): Promise<void> {
      await tx
        .deleteFrom('sessions')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    async deleteForUser(
      instanceId: string,
      userId: string,
      exceptId: string | undefined,
      tx: Executor = db,
    ): Promise<number> {
      let q = tx
        .deleteFrom('sessions')
        .where('instance_id', '=', instanceId)
        .where('user_id', '=', userId);
      if (exceptId) q = q.where('id', '!=', exceptId);
      const res = await q.executeTakeFirst();
      return Number(res.numDeletedRows);
    },
    /** Removes sessions past their absolute expiry or idle too long. */
    async deleteExpired(instanceId: string, now: string, idleBefore: string, tx: Executor = db) {
      await tx
        .deleteFrom('sessions')
        .where('instance_id', '=', instanceId)
        .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<', idleBefore)]))
        .execute();
    },
  };
}
export type SessionRepo = ReturnType<typeof createSessionRepo>;
