import type { Executor } from '../db/database.js';

/** TOTP enrolments (pending and done) and recovery codes. Secrets arrive here already sealed. */
export function createSecondFactorRepo(db: Executor) {
  return {
    async insertEnrolment(
      instanceId: string,
      e: { id: string; label: string; secret: Buffer; createdAt: string; expiresAt: string },
      tx: Executor = db,
    ): Promise<void> {
      // Expired enrolments are swept on the way, so the table stays small.
      await tx
        .deleteFrom('totp_enrolments')
        .where('instance_id', '=', instanceId)
        .where('expires_at', '<', e.createdAt)
        .execute();
      await tx
        .insertInto('totp_enrolments')
        .values({
          instance_id: instanceId,
          id: e.id,
          label: e.label,
          secret: e.secret,
          attempts: 0,
          created_at: e.createdAt,
          expires_at: e.expiresAt,
        })
        .execute();
    },
    async findEnrolment(instanceId: string, id: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('totp_enrolments')
        .select(['id', 'label', 'secret', 'attempts', 'expires_at'])
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r
        ? {
            id: r.id,
            label: r.label,
            secret: Buffer.from(r.secret),
            attempts: Number(r.attempts),
            expiresAt: r.expires_at,
          }
        : undefined;
    },
    async countEnrolmentAttempt(instanceId: string, id: string, tx: Executor = db) {
      await tx
        .updateTable('totp_enrolments')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    async deleteEnrolment(instanceId: string, id: string, tx: Executor = db) {
      await tx
        .deleteFrom('totp_enrolments')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    async upsertTotp(
      instanceId: string,
      userId: string,
      secret: Buffer,
      lastStep: number,
      at: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .deleteFrom('user_totp')
        .where('instance_id', '=', instanceId)
        .where('user_id', '=', userId)
        .execute();
      await tx
        .insertInto('user_totp')
        .values({
          instance_id: instanceId,
          user_id: userId,
          secret,
          last_step: lastStep,
          enrolled_at: at,
        })
        .execute();
    },
    async findTotp(instanceId: string, userId: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('user_totp')
        .select(['secret', 'last_step'])
        .where('instance_id', '=', instanceId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return r
        ? {
            secret: Buffer.from(r.secret),
            lastStep: r.last_step === null ? null : Number(r.last_step),
          }
        : undefined;
    },
    /** Ids of users with an enrolled authenticator. */
    async enrolledUserIds(instanceId: string, tx: Executor = db): Promise<Set<string>> {
      const rows = await tx
        .selectFrom('user_totp')
        .select('user_id')
        .where('instance_id', '=', instanceId)
        .execute();
      return new Set(rows.map((r) => r.user_id));
    },
    /**
     * Records `step` as used, only if it is newer than the last one: two requests racing with
     * the same code cannot both win.
     */
    async claimStep(instanceId: string, userId: string, step: number, tx: Executor = db) {
      const res = await tx
        .updateTable('user_totp')
        .set({ last_step: step })
        .where('instance_id', '=', instanceId)
        .where('user_id', '=', userId)
        .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    async deleteTotp(instanceId: string, userId: string, tx: Executor = db): Promise<void> {
      await tx
        .deleteFrom('user_totp')
        .where('instance_id', '=', instanceId)
        .where('user_id', '=', userId)
        .execute();
    },
    async replaceRecoveryCodes(
      instanceId: string,
      userId: string,
      hashes: string[],
      at: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .deleteFrom('recovery_codes')
        .where('instance_id', '=', instanceId)
        .where('user_id', '=', userId)
        .execute();
      if (hashes.length === 0) return;
      await tx
        .insertInto('recovery_codes')
        .values(
          hashes.map((h) => ({
            instance_id: instanceId,
            user_id: userId,
            code_hash: h,
            created_at: at,
            used_at: null,
          })),
        )
        .execute();
    },
    /** Marks an unused code used; true if it was there and unused. */
    async useRecoveryCode(
      instanceId: string,
      userId: string,
      hash: string,
      at: string,
      tx: Executor = db,
    ): Promise<boolean> {
      const res = await tx
        .updateTable('recovery_codes')
        .set({ used_at: at })
        .where('instance_id', '=', instanceId)
        .where('user_id', '=', userId)
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    async countUnusedRecoveryCodes(instanceId: string, userId: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('instance_id', '=', instanceId)
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(r?.n ?? 0);
    },
  };
}
export type SecondFactorRepo = ReturnType<typeof createSecondFactorRepo>;
