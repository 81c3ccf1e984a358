import type { Executor } from '../db/database.js';

export interface ApiTokenRecord {
  id: string;
  userId: string;
  name: string;
  hint: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

type Row = {
  id: string;
  user_id: string;
  name: string;
  hint: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
};
const toRecord = (r: Row): ApiTokenRecord => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  hint: r.hint,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});
const COLUMNS = [
  'id',
  'user_id',
  'name',
  'hint',
  'created_at',
  'expires_at',
  'last_used_at',
  'revoked_at',
] as const;

/** API tokens; only the SHA-256 of a token is stored. */
export function createApiTokenRepo(db: Executor) {
  return {
    async insert(
      instanceId: string,
      t: ApiTokenRecord & { tokenHash: string },
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .insertInto('api_tokens')
        .values({
          instance_id: instanceId,
          id: t.id,
          user_id: t.userId,
          name: t.name,
          token_hash: t.tokenHash,
          hint: t.hint,
          created_at: t.createdAt,
          expires_at: t.expiresAt,
          last_used_at: t.lastUsedAt,
          revoked_at: t.revokedAt,
        })
        .execute();
    },
    async findByHash(instanceId: string, tokenHash: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('api_tokens')
        .select(COLUMNS)
        .where('instance_id', '=', instanceId)
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },
    async find(instanceId: string, id: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('api_tokens')
        .select(COLUMNS)
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },
    async list(instanceId: string, userId?: string, tx: Executor = db) {
      let q = tx.selectFrom('api_tokens').select(COLUMNS).where('instance_id', '=', instanceId);
      if (userId) q = q.where('user_id', '=', userId);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id').execute();
      return rows.map(toRecord);
    },
    async touch(instanceId: string, id: string, at: string, tx: Executor = db): Promise<void> {
      await tx
        .updateTable('api_tokens')
        .set({ last_used_at: at })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    /** True if this call revoked it (it was active). */
    async revoke(instanceId: string, id: string, at: string, tx: Executor = db) {
      const res = await tx
        .updateTable('api_tokens')
        .set({ revoked_at: at })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
  };
}
export type ApiTokenRepo = ReturnType<typeof createApiTokenRepo>;
