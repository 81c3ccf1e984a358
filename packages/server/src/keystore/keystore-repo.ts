import type { Executor } from '../db/database.js';
import type {
  BackendKind,
  KeyAlgorithm,
  KeyOrigin,
  KeyPurpose,
  KeyRecord,
} from './keystore-types.js';

type Row = {
  instance_id: string;
  id: string;
  label: string;
  algorithm: string;
  backend: string;
  purpose: string;
  public_key: Buffer;
  handle: Buffer;
  created_at: string;
  origin: string;
};

function toRecord(row: Row): KeyRecord & { handle: Buffer } {
  return {
    instanceId: row.instance_id,
    id: row.id,
    label: row.label,
    algorithm: row.algorithm as KeyAlgorithm,
    backend: row.backend as BackendKind,
    purpose: row.purpose as KeyPurpose,
    publicKeyDer: Buffer.from(row.public_key),
    handle: Buffer.from(row.handle),
    createdAt: row.created_at,
    origin: row.origin as KeyOrigin,
  };
}

/** Rows of the `keys` table, always scoped to one instance. */
export function createKeyRepo(db: Executor) {
  return {
    async insert(rec: KeyRecord & { handle: Buffer }, tx: Executor = db): Promise<void> {
      await tx
        .insertInto('keys')
        .values({
          instance_id: rec.instanceId,
          id: rec.id,
          label: rec.label,
          algorithm: rec.algorithm,
          backend: rec.backend,
          purpose: rec.purpose,
          public_key: rec.publicKeyDer,
          handle: rec.handle,
          created_at: rec.createdAt,
          origin: rec.origin,
        })
        .execute();
    },
    async find(instanceId: string, id: string, tx: Executor = db) {
      const row = await tx
        .selectFrom('keys')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async list(instanceId: string, purpose?: KeyPurpose, tx: Executor = db) {
      let q = tx.selectFrom('keys').selectAll().where('instance_id', '=', instanceId);
      if (purpose) q = q.where('purpose', '=', purpose);
      const rows = await q.orderBy('created_at').orderBy('id').execute();
      return rows.map(toRecord);
    },
    async delete(instanceId: string, id: string, tx: Executor = db): Promise<void> {
      await tx
        .deleteFrom('keys')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
  };
}
export type KeyRepo = ReturnType<typeof createKeyRepo>;
