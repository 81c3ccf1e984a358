import type { Executor } from '../db/database.js';

export interface InstanceRecord {
  id: string;
  name: string;
  createdAt: string;
  claimedAt: string | null;
}

/** The instances (tenants) of this deployment. */
export function createInstanceRepo(db: Executor) {
  const toRecord = (r: {
    id: string;
    name: string;
    created_at: string;
    claimed_at: string | null;
  }): InstanceRecord => ({
    id: r.id,
    name: r.name,
    createdAt: r.created_at,
    claimedAt: r.claimed_at,
  });
  return {
    async insert(rec: InstanceRecord, tx: Executor = db): Promise<void> {
      await tx
        .insertInto('instances')
        .values({
          id: rec.id,
          name: rec.name,
          created_at: rec.createdAt,
          claimed_at: rec.claimedAt,
        })
        .execute();
    },
    async findByName(name: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('instances')
        .selectAll()
        .where('name', '=', name)
        .executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },
    async find(id: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('instances')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },
    async markClaimed(id: string, at: string, tx: Executor = db): Promise<boolean> {
      const res = await tx
        .updateTable('instances')
        .set({ claimed_at: at })
        .where('id', '=', id)
        .where('claimed_at', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
  };
}
export type InstanceRepo = ReturnType<typeof createInstanceRepo>;
