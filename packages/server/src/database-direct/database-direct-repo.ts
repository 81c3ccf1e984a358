import type { Selectable } from 'kysely';
import type { Executor } from '../db/database.js';
import type { DatabaseDirectTables } from './database-direct-tables.js';
import type { ConnectionRecord, DatabaseDirectType } from './database-direct-types.js';

type Row = Selectable<DatabaseDirectTables['database_connections']>;

export interface StoredConnection extends ConnectionRecord {
  /** The sealed secrets blob (see database-direct-service). */
  sealedSecrets: Buffer;
}

const toConnection = (r: Row): StoredConnection => ({
  id: r.id,
  name: r.name,
  type: r.type as DatabaseDirectType,
  url: r.url,
  database: r.database_name,
  dataSource: r.data_source,
  caCertificate: r.ca_certificate,
  tls: Number(r.tls) === 1,
  keyId: r.key_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  sealedSecrets: Buffer.from(r.secrets),
});

/** The fields a create or update writes. */
export type ConnectionWrite = Omit<ConnectionRecord, 'createdAt' | 'updatedAt'> & {
  secrets: Buffer;
};

/** Database-direct connections, of one instance at a time. */
export function createDatabaseDirectRepo(db: Executor) {
  const columns = (c: ConnectionWrite) => ({
    name: c.name,
    type: c.type,
    url: c.url,
    database_name: c.database,
    data_source: c.dataSource,
    ca_certificate: c.caCertificate,
    tls: c.tls ? 1 : 0,
    secrets: c.secrets,
    key_id: c.keyId,
  });
  return {
    async insert(instanceId: string, c: ConnectionWrite, now: string, tx: Executor = db) {
      await tx
        .insertInto('database_connections')
        .values({
          instance_id: instanceId,
          id: c.id,
          ...columns(c),
          created_at: now,
          updated_at: now,
        })
        .execute();
    },
    async update(instanceId: string, c: ConnectionWrite, now: string, tx: Executor = db) {
      await tx
        .updateTable('database_connections')
        .set({ ...columns(c), updated_at: now })
        .where('instance_id', '=', instanceId)
        .where('id', '=', c.id)
        .execute();
    },
    async delete(instanceId: string, id: string, tx: Executor = db) {
      await tx
        .deleteFrom('database_connections')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    async find(instanceId: string, id: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('database_connections')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? toConnection(r) : undefined;
    },
    async findByName(instanceId: string, name: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('database_connections')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('name', '=', name)
        .executeTakeFirst();
      return r ? toConnection(r) : undefined;
    },
    async list(instanceId: string, tx: Executor = db) {
      const rows = await tx
        .selectFrom('database_connections')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .orderBy('name')
        .execute();
      return rows.map(toConnection);
    },
  };
}
export type DatabaseDirectRepo = ReturnType<typeof createDatabaseDirectRepo>;
