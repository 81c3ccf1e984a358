import type { Executor } from '../db/database.js';

/** Challenge keys (sealed) and used nonces. */
export function createChallengeRepo(db: Executor) {
  return {
    async findKey(instanceId: string, tx: Executor = db): Promise<Buffer | undefined> {
      const r = await tx
        .selectFrom('challenge_keys')
        .select('secret')
        .where('instance_id', '=', instanceId)
        .executeTakeFirst();
      return r ? Buffer.from(r.secret) : undefined;
    },
    /** Stores a key unless the instance has one already (another replica may win the race). */
    async insertKeyIfAbsent(
      instanceId: string,
      sealed: Buffer,
      now: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .insertInto('challenge_keys')
        .values({ instance_id: instanceId, secret: sealed, created_at: now })
        .onConflict((oc) => oc.column('instance_id').doNothing())
        .execute();
    },
    /** Records a nonce as used; false when it already was (a replay). */
    async burn(
      instanceId: string,
      nonceHash: string,
      expiresAt: string,
      tx: Executor = db,
    ): Promise<boolean> {
      const r = await tx
        .insertInto('used_nonces')
        .values({ instance_id: instanceId, nonce_hash: nonceHash, expires_at: expiresAt })
        .onConflict((oc) => oc.columns(['instance_id', 'nonce_hash']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    /** Forgets nonces that have expired: an expired nonce is refused without looking it up. */
    async purgeExpired(now: string, tx: Executor = db): Promise<number> {
      const r = await tx.deleteFrom('used_nonces').where('expires_at', '<', now).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
export type ChallengeRepo = ReturnType<typeof createChallengeRepo>;
