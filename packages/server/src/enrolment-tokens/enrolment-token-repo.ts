import type { Selectable } from 'kysely';
import type { Executor } from '../db/database.js';
import type { EnrolmentTokenTables } from './enrolment-token-tables.js';

/** A token as listed: everything but its value, which is never stored. */
export interface EnrolmentToken {
  id: string;
  name: string;
  batchId: string;
  notBefore: string;
  notAfter: string;
  createdAt: string;
}

const toToken = (r: Selectable<EnrolmentTokenTables['enrolment_tokens']>): EnrolmentToken => ({
  id: r.id,
  name: r.name,
  batchId: r.batch_id,
  notBefore: r.not_before,
  notAfter: r.not_after,
  createdAt: r.created_at,
});

/** Enrolment tokens of one instance. */
export function createEnrolmentTokenRepo(db: Executor) {
  return {
    async insert(
      instanceId: string,
      t: EnrolmentToken,
      valueHash: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .insertInto('enrolment_tokens')
        .values({
          instance_id: instanceId,
          id: t.id,
          name: t.name,
          batch_id: t.batchId,
          value_hash: valueHash,
          not_before: t.notBefore,
          not_after: t.notAfter,
          created_at: t.createdAt,
        })
        .execute();
    },
    async list(instanceId: string, tx: Executor = db): Promise<EnrolmentToken[]> {
      return (
        await tx
          .selectFrom('enrolment_tokens')
          .selectAll()
          .where('instance_id', '=', instanceId)
          .orderBy('name')
          .execute()
      ).map(toToken);
    },
    async find(
      instanceId: string,
      id: string,
      tx: Executor = db,
    ): Promise<EnrolmentToken | undefined> {
      const r = await tx
        .selectFrom('enrolment_tokens')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? toToken(r) : undefined;
    },
    async findByHash(
      instanceId: string,
      valueHash: string,
      tx: Executor = db,
    ): Promise<EnrolmentToken | undefined> {
      const r = await tx
        .selectFrom('enrolment_tokens')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('value_hash', '=', valueHash)
        .executeTakeFirst();
      return r ? toToken(r) : undefined;
    },
    async delete(instanceId: string, id: string, tx: Executor = db): Promise<void> {
      await tx
        .deleteFrom('enrolment_tokens')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
  };
}
export type EnrolmentTokenRepo = ReturnType<typeof createEnrolmentTokenRepo>;
