import { createHash, randomBytes } from 'node:crypto';
import type { DialectName, Executor } from '../db/database.js';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** What a start finds: a new link, one issued before that still works, or a claimed instance. */
export type StartLink =
  | { kind: 'issued'; token: string; expiresAt: string }
  | { kind: 'valid'; createdAt: string; expiresAt: string }
  | { kind: 'claimed' };

/**
 * The one-time link that lets one person claim a new instance. Only the hash of the token is
 * stored; issuing a new link on purpose voids the earlier unused ones, while a start keeps a
 * link that still works (replicas starting together act as one server).
 */
export function createSetupService(
  db: Executor,
  now: () => Date = () => new Date(),
  dialect: DialectName = 'sqlite',
) {
  const insert = async (tx: Executor, instanceId: string, ttlMinutes: number) => {
    const token = randomBytes(32).toString('base64url');
    const t = now();
    const expiresAt = new Date(t.getTime() + ttlMinutes * 60_000).toISOString();
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
    return { token, expiresAt };
  };
  /**
   * Reads the instance row, locked on PostgreSQL until the transaction ends: two replicas
   * deciding at once whether to issue a link take turns.
   */
  const lockInstance = (tx: Executor, instanceId: string) =>
    tx
      .selectFrom('instances')
      .select('claimed_at')
      .where('id', '=', instanceId)
      .$if(dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();

  return {
    /**
     * A new link, voiding the earlier unused ones (`trustlink setup link`); undefined when the
     * instance already has an administrator.
     */
    async issue(
      instanceId: string,
      ttlMinutes: number,
    ): Promise<{ token: string; expiresAt: string } | undefined> {
      return db.transaction().execute(async (tx) => {
        const inst = await lockInstance(tx, instanceId);
        if (!inst || inst.claimed_at) return undefined;
        return insert(tx, instanceId, ttlMinutes);
      });
    },
    /**
     * At start: a new link only when the instance is unclaimed and no unused, unexpired link
     * exists. A link printed by another replica (or an earlier start) keeps working.
     */
    async issueAtStart(instanceId: string, ttlMinutes: number): Promise<StartLink> {
      return db.transaction().execute(async (tx): Promise<StartLink> => {
        const inst = await lockInstance(tx, instanceId);
        if (!inst || inst.claimed_at) return { kind: 'claimed' };
        const current = await tx
          .selectFrom('setup_links')
          .select(['created_at', 'expires_at'])
          .where('instance_id', '=', instanceId)
          .where('used_at', 'is', null)
          .where('expires_at', '>', now().toISOString())
          .orderBy('created_at', 'desc')
          .executeTakeFirst();
        if (current)
          return { kind: 'valid', createdAt: current.created_at, expiresAt: current.expires_at };
        return { kind: 'issued', ...(await insert(tx, instanceId, ttlMinutes)) };
      });
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
