import type { Executor } from '../db/database.js';

export type CaKind = 'root' | 'issuing' | 'tls';

export interface CaCertificateRecord {
  instanceId: string;
  id: string;
  kind: CaKind;
  name: string;
  keyId: string;
  issuerId: string | null;
  serial: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  der: Buffer;
  createdAt: string;
  retiredAt: string | null;
  /** Issuing CAs: a successor is made before this one expires. */
  autoRenew: boolean;
  lifetimeSeconds: number | null;
  /** Issuing CAs: the first generation's id, shared by its renewals. */
  lineageId: string | null;
  /** Issuing CAs: the successor, once renewed. */
  renewedBy: string | null;
}

type Row = {
  instance_id: string;
  id: string;
  kind: string;
  name: string;
  key_id: string;
  issuer_id: string | null;
  serial: string;
  subject: string;
  not_before: string;
  not_after: string;
  der: Buffer;
  created_at: string;
  retired_at: string | null;
  auto_renew: number;
  lifetime_seconds: number | null;
  lineage_id: string | null;
  renewed_by: string | null;
};

function toRecord(r: Row): CaCertificateRecord {
  return {
    instanceId: r.instance_id,
    id: r.id,
    kind: r.kind as CaKind,
    name: r.name,
    keyId: r.key_id,
    issuerId: r.issuer_id,
    serial: r.serial,
    subject: r.subject,
    notBefore: r.not_before,
    notAfter: r.not_after,
    der: Buffer.from(r.der),
    createdAt: r.created_at,
    retiredAt: r.retired_at,
    autoRenew: r.auto_renew === 1,
    lifetimeSeconds: r.lifetime_seconds === null ? null : Number(r.lifetime_seconds),
    lineageId: r.lineage_id,
    renewedBy: r.renewed_by,
  };
}

/** Certificates the instance itself holds keys for: its root, issuing CAs and TLS endpoints. */
export function createCaRepo(db: Executor) {
  return {
    async insert(rec: CaCertificateRecord, tx: Executor = db): Promise<void> {
      await tx
        .insertInto('ca_certificates')
        .values({
          instance_id: rec.instanceId,
          id: rec.id,
          kind: rec.kind,
          name: rec.name,
          key_id: rec.keyId,
          issuer_id: rec.issuerId,
          serial: rec.serial,
          subject: rec.subject,
          not_before: rec.notBefore,
          not_after: rec.notAfter,
          der: rec.der,
          created_at: rec.createdAt,
          retired_at: rec.retiredAt,
          auto_renew: rec.autoRenew ? 1 : 0,
          lifetime_seconds: rec.lifetimeSeconds,
          lineage_id: rec.lineageId,
          renewed_by: rec.renewedBy,
        })
        .execute();
    },
    /** The newest certificate of a kind that is not retired. */
    async current(instanceId: string, kind: CaKind, tx: Executor = db) {
      const row = await tx
        .selectFrom('ca_certificates')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('kind', '=', kind)
        .where('retired_at', 'is', null)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async list(instanceId: string, kind?: CaKind, tx: Executor = db) {
      let q = tx.selectFrom('ca_certificates').selectAll().where('instance_id', '=', instanceId);
      if (kind) q = q.where('kind', '=', kind);
      return (await q.orderBy('created_at').orderBy('id').execute()).map(toRecord);
    },
    async find(instanceId: string, id: string, tx: Executor = db) {
      const row = await tx
        .selectFrom('ca_certificates')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    /** The newest generation of an issuing CA lineage. */
    async newestOfLineage(instanceId: string, lineageId: string, tx: Executor = db) {
      const row = await tx
        .selectFrom('ca_certificates')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('lineage_id', '=', lineageId)
        .where('renewed_by', 'is', null)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    /** Auto-renewing issuing CAs without a successor yet. */
    async renewable(instanceId: string | undefined, tx: Executor = db) {
      let q = tx
        .selectFrom('ca_certificates')
        .selectAll()
        .where('kind', '=', 'issuing')
        .where('auto_renew', '=', 1)
        .where('renewed_by', 'is', null)
        .where('retired_at', 'is', null);
      if (instanceId) q = q.where('instance_id', '=', instanceId);
      return (await q.execute()).map(toRecord);
    },
    /**
     * Records a successor; false when another process already did (the row is claimed once).
     */
    async markRenewed(instanceId: string, id: string, successorId: string, tx: Executor = db) {
      const r = await tx
        .updateTable('ca_certificates')
        .set({ renewed_by: successorId })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .where('renewed_by', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async retire(instanceId: string, id: string, at: string, tx: Executor = db): Promise<void> {
      await tx
        .updateTable('ca_certificates')
        .set({ retired_at: at })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
  };
}
export type CaRepo = ReturnType<typeof createCaRepo>;
