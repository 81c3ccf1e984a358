import type { Selectable } from 'kysely';
import type { Executor } from '../db/database.js';
import type { ManufacturingTables } from './manufacturing-tables.js';

/** A manufacturing credential as stored, without its hash (which never leaves this file). */
export interface ManufacturingCredential {
  id: string;
  name: string;
  batchId: string;
  hint: string;
  notAfter: string;
  maxDevices: number;
  usedDevices: number;
  createdAt: string;
  createdBy: string;
  lastUsedAt: string | null;
}

type Row = Selectable<ManufacturingTables['manufacturing_credentials']>;
const toCredential = (r: Row): ManufacturingCredential => ({
  id: r.id,
  name: r.name,
  batchId: r.batch_id,
  hint: r.hint,
  notAfter: r.not_after,
  maxDevices: Number(r.max_devices),
  usedDevices: Number(r.used_devices),
  createdAt: r.created_at,
  createdBy: r.created_by,
  lastUsedAt: r.last_used_at,
});

/** Manufacturing credentials of one instance. */
export function createManufacturingRepo(db: Executor) {
  const table = 'manufacturing_credentials' as const;
  return {
    async insert(
      instanceId: string,
      c: ManufacturingCredential,
      secretHash: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .insertInto(table)
        .values({
          instance_id: instanceId,
          id: c.id,
          name: c.name,
          batch_id: c.batchId,
          secret_hash: secretHash,
          hint: c.hint,
          not_after: c.notAfter,
          max_devices: c.maxDevices,
          used_devices: c.usedDevices,
          created_at: c.createdAt,
          created_by: c.createdBy,
          last_used_at: c.lastUsedAt,
        })
        .execute();
    },
    async list(instanceId: string, tx: Executor = db): Promise<ManufacturingCredential[]> {
      const rows = await tx
        .selectFrom(table)
        .selectAll()
        .where('instance_id', '=', instanceId)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
      return rows.map(toCredential);
    },
    async find(instanceId: string, id: string, tx: Executor = db) {
      const r = await tx
        .selectFrom(table)
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? toCredential(r) : undefined;
    },
    async findByHash(instanceId: string, secretHash: string, tx: Executor = db) {
      const r = await tx
        .selectFrom(table)
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('secret_hash', '=', secretHash)
        .executeTakeFirst();
      return r ? toCredential(r) : undefined;
    },
    /**
     * Takes one device from the credential's count, only while some are left: the check and the
     * increment are one statement, so two stations can never overrun the limit together.
     * False when the count was used up.
     */
    async consumeOne(instanceId: string, id: string, at: string, tx: Executor): Promise<boolean> {
      const r = await tx
        .updateTable(table)
        .set((eb) => ({ used_devices: eb('used_devices', '+', 1), last_used_at: at }))
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .whereRef('used_devices', '<', 'max_devices')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async touch(instanceId: string, id: string, at: string, tx: Executor = db): Promise<void> {
      await tx
        .updateTable(table)
        .set({ last_used_at: at })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    async delete(instanceId: string, id: string, tx: Executor = db): Promise<void> {
      await tx
        .deleteFrom(table)
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
  };
}
export type ManufacturingRepo = ReturnType<typeof createManufacturingRepo>;
