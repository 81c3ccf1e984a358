import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import type { Db } from '../db/database.js';
import { BadRequestError, ConflictError, NotFoundError } from '../lib/errors.js';
import { createApiTokenRepo, type ApiTokenRecord } from './api-token-repo.js';
import { hashSecret, looksLikeApiToken, newApiToken } from './token-fns.js';

/** last_used_at is written at most this often per token. */
const TOUCH_EVERY_SECONDS = 60;

export type ApiTokenResolution =
  | { ok: true; token: ApiTokenRecord }
  | { ok: false; reason: 'malformed' | 'unknown' | 'expired' | 'revoked'; token?: ApiTokenRecord };

/**
 * API tokens for automation: 256-bit random, shown once, stored as SHA-256, with an expiry.
 * A token acts with the role its owner has at the time of each request.
 */
export function createApiTokenService(deps: {
  db: Db;
  audit: AuditService;
  now: () => Date;
  maxDays: number;
}) {
  const { db, audit, now } = deps;
  const repo = createApiTokenRepo(db.kysely);

  return {
    maxDays: deps.maxDays,
    async create(
      instanceId: string,
      owner: { id: string; username: string },
      input: { name: string; expiresInDays: number },
      ctx: AuditContext,
    ): Promise<{ token: string; record: ApiTokenRecord }> {
      if (input.expiresInDays > deps.maxDays) {
        throw new BadRequestError(
          `expiresInDays: at most ${deps.maxDays} days (apiTokenMaxDays)`,
          undefined,
          'token-lifetime-too-long',
        );
      }
      const t = now();
      const token = newApiToken();
      const record: ApiTokenRecord = {
        id: randomUUID(),
        userId: owner.id,
        name: input.name,
        hint: token.slice(-4),
        createdAt: t.toISOString(),
        expiresAt: new Date(t.getTime() + input.expiresInDays * 86_400_000).toISOString(),
        lastUsedAt: null,
        revokedAt: null,
      };
      await db.kysely.transaction().execute(async (tx) => {
        await repo.insert(instanceId, { ...record, tokenHash: hashSecret(token) }, tx);
        await audit.record(
          {
            instanceId,
            ...ctx,
            action: 'token.create',
            target: { type: 'token', id: record.id, name: record.name },
            result: 'ok',
            details: { owner: owner.username, expiresAt: record.expiresAt },
          },
          tx,
        );
      });
      return { token, record };
    },

    async resolve(instanceId: string, token: string): Promise<ApiTokenResolution> {
      if (!looksLikeApiToken(token)) return { ok: false, reason: 'malformed' };
      const rec = await repo.findByHash(instanceId, hashSecret(token));
      if (!rec) return { ok: false, reason: 'unknown' };
      if (rec.revokedAt) return { ok: false, reason: 'revoked', token: rec };
      const t = now();
      if (Date.parse(rec.expiresAt) <= t.getTime())
        return { ok: false, reason: 'expired', token: rec };
      if (
        !rec.lastUsedAt ||
        t.getTime() - Date.parse(rec.lastUsedAt) > TOUCH_EVERY_SECONDS * 1000
      ) {
        await repo.touch(instanceId, rec.id, t.toISOString());
      }
      return { ok: true, token: rec };
    },

    list: (instanceId: string, userId?: string) => repo.list(instanceId, userId),
    find: (instanceId: string, id: string) => repo.find(instanceId, id),

    /**
     * Revokes a token. Its owner may revoke it, and so may an administrator (`asAdmin`); for
     * anyone else it does not exist.
     */
    async revoke(
      instanceId: string,
      id: string,
      caller: { userId: string | null; asAdmin: boolean },
      ctx: AuditContext,
    ): Promise<ApiTokenRecord> {
      const rec = await repo.find(instanceId, id);
      if (!rec || (!caller.asAdmin && rec.userId !== caller.userId)) {
        throw new NotFoundError(`API token ${id} not found`);
      }
      if (rec.revokedAt) throw new ConflictError('this token is already revoked', 'token-revoked');
      const at = now().toISOString();
      await db.kysely.transaction().execute(async (tx) => {
        await repo.revoke(instanceId, id, at, tx);
        await audit.record(
          {
            instanceId,
            ...ctx,
            action: 'token.revoke',
            target: { type: 'token', id, name: rec.name },
            result: 'ok',
          },
          tx,
        );
      });
      return { ...rec, revokedAt: at };
    },
  };
}
export type ApiTokenService = ReturnType<typeof createApiTokenService>;
