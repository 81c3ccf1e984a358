import { createHash, randomBytes } from 'node:crypto';
import type { Executor } from '../db/database.js';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The one-time link that lets one person claim a new instance. Only the hash of the token is
 * stored; issuing a new link voids the earlier unused ones.
 */
export function createSetupService(db: Executor, now: () => Date = () => new Date()) {
  return {
    async issue(
      instanceId: string,
      ttlMinutes: number,
    ): Promise<{ token: string; expiresAt: string }> {
      const token = randomBytes(32).toString('base64url');
      const t = now();
      const expiresAt = new Date(t.getTime() + ttlMinutes * 60_000).toISOString();
      await db.transaction().execute(async (tx) => {
        await tx
          .deleteFrom('setup_links')
          .where('instance_id', '=', instanceId)
          .where('used_at', 'is', null)
          .execute();
        await tx
          .insertInto('setup_links')
          .values({
            instance_id: instanceId,
            token_hash: hash(token),
            created_at: t.toISOString(),
            expires_at: expiresAt,
            used_at: null,
          })
          .execute();
      });
      return { token, expiresAt };
    },
    /**
     * Burns the token inside the caller's transaction; true if it was valid, unused and
     * unexpired. A second use, even concurrent, finds it used.
     */
    async consume(instanceId: string, token: string, tx: Executor): Promise<boolean> {
      const t = now().toISOString();
      const res = await tx
        .updateTable('setup_links')
        .set({ used_at: t })
        .where('instance_id', '=', instanceId)
        .where('token_hash', '=', hash(token))
        .where('used_at', 'is', null)
        .where('expires_at', '>', t)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    /** Whether a token is currently valid, without using it (for the setup page). */
    async check(instanceId: string, token: string): Promise<boolean> {
      const row = await db
        .selectFrom('setup_links')
        .select('expires_at')
        .where('instance_id', '=', instanceId)
        .where('token_hash', '=', hash(token))
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return !!row && row.expires_at > now().toISOString();
    },
  };
}
export type SetupService = ReturnType<typeof createSetupService>;
