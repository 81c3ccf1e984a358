import type { Executor } from '../db/database.js';

export type ChallengeKind = 'verify' | 'enrol';

export interface ChallengeRecord {
  userId: string;
  kind: ChallengeKind;
  enrolmentId: string | null;
  attempts: number;
  expiresAt: string;
}

/** Sign-in challenges: what links a correct password to the second-factor step. */
export function createChallengeRepo(db: Executor) {
  return {
    async insert(
      instanceId: string,
      c: ChallengeRecord & { tokenHash: string; createdAt: string },
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .deleteFrom('sign_in_challenges')
        .where('instance_id', '=', instanceId)
        .where('expires_at', '<', c.createdAt)
        .execute();
      await tx
        .insertInto('sign_in_challenges')
        .values({
          instance_id: instanceId,
          token_hash: c.tokenHash,
          user_id: c.userId,
          kind: c.kind,
          enrolment_id: c.enrolmentId,
          attempts: c.attempts,
          created_at: c.createdAt,
          expires_at: c.expiresAt,
        })
        .execute();
    },
    async find(
      instanceId: string,
      tokenHash: string,
      tx: Executor = db,
    ): Promise<ChallengeRecord | undefined> {
      const r = await tx
        .selectFrom('sign_in_challenges')
        .select(['user_id', 'kind', 'enrolment_id', 'attempts', 'expires_at'])
        .where('instance_id', '=', instanceId)
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
      return r
        ? {
            userId: r.user_id,
            kind: r.kind as ChallengeKind,
            enrolmentId: r.enrolment_id,
            attempts: Number(r.attempts),
            expiresAt: r.expires_at,
          }
        : undefined;
    },
    async countAttempt(instanceId: string, tokenHash: string, tx: Executor = db) {
      await tx
        .updateTable('sign_in_challenges')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('instance_id', '=', instanceId)
        .where('token_hash', '=', tokenHash)
        .execute();
    },
    /** Deletes the challenge; true if this call removed it (so it is used once). */
    async delete(instanceId: string, tokenHash: string, tx: Executor = db): Promise<boolean> {
      const res = await tx
        .deleteFrom('sign_in_challenges')
        .where('instance_id', '=', instanceId)
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
      return Number(res.numDeletedRows) === 1;
    },
  };
}
export type ChallengeRepo = ReturnType<typeof createChallengeRepo>;
