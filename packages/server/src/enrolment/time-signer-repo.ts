import type { Executor } from '../db/database.js';

export interface TimeSignerRecord {
  id: string;
  keyId: string;
  der: Buffer;
  notAfter: string;
  createdAt: string;
}

/** The certificates (and key ids) that sign time statements, newest last. */
export function createTimeSignerRepo(db: Executor) {
  return {
    async newest(instanceId: string, tx: Executor = db): Promise<TimeSignerRecord | undefined> {
      const r = await tx
        .selectFrom('time_signers')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .executeTakeFirst();
      return r
        ? {
            id: r.id,
            keyId: r.key_id,
            der: Buffer.from(r.der),
            notAfter: r.not_after,
            createdAt: r.created_at,
          }
        : undefined;
    },
    async insert(instanceId: string, s: TimeSignerRecord, tx: Executor = db): Promise<void> {
      await tx
        .insertInto('time_signers')
        .values({
          instance_id: instanceId,
          id: s.id,
          key_id: s.keyId,
          der: s.der,
          not_after: s.notAfter,
          created_at: s.createdAt,
        })
        .execute();
    },
  };
}
export type TimeSignerRepo = ReturnType<typeof createTimeSignerRepo>;
