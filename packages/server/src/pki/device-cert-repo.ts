import { compiledQuery } from '../db/compiled-query.js';
import type { Executor } from '../db/database.js';

export type DeviceCertStatus = 'valid' | 'revoked';

export interface DeviceCertificateRecord {
  instanceId: string;
  id: string;
  issuerId: string;
  serial: string;
  deviceId: string;
  notBefore: string;
  notAfter: string;
  status: DeviceCertStatus;
  revocationReason: string | null;
  revokedAt: string | null;
  der: Buffer;
  createdAt: string;
}

type Row = {
  instance_id: string;
  id: string;
  issuer_id: string;
  serial: string;
  device_id: string;
  not_before: string;
  not_after: string;
  status: string;
  revocation_reason: string | null;
  revoked_at: string | null;
  der: Buffer;
  created_at: string;
};

function toRecord(r: Row): DeviceCertificateRecord {
  return {
    instanceId: r.instance_id,
    id: r.id,
    issuerId: r.issuer_id,
    serial: r.serial,
    deviceId: r.device_id,
    notBefore: r.not_before,
    notAfter: r.not_after,
    status: r.status as DeviceCertStatus,
    revocationReason: r.revocation_reason,
    revokedAt: r.revoked_at,
    der: Buffer.from(r.der),
    createdAt: r.created_at,
  };
}

export interface DeviceCertFilter {
  deviceId?: string;
  issuerId?: string;
  status?: DeviceCertStatus;
  limit: number;
  offset: number;
}

/** Issued device certificates; (issuer, serial) is unique per instance. */
export function createDeviceCertRepo(db: Executor) {
  // Every enrolment and renewal writes one: compiled once.
  const insertRow = compiledQuery(
    db,
    (
      q,
      a: [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string | null,
        string | null,
        Buffer,
        string,
      ],
    ) =>
      q.insertInto('device_certificates').values({
        instance_id: a[0],
        id: a[1],
        issuer_id: a[2],
        serial: a[3],
        device_id: a[4],
        not_before: a[5],
        not_after: a[6],
        status: a[7],
        revocation_reason: a[8],
        revoked_at: a[9],
        der: a[10],
        created_at: a[11],
      }),
    12,
  );
  return {
    async insert(rec: DeviceCertificateRecord, tx: Executor = db): Promise<void> {
      await insertRow(
        [
          rec.instanceId,
          rec.id,
          rec.issuerId,
          rec.serial,
          rec.deviceId,
          rec.notBefore,
          rec.notAfter,
          rec.status,
          rec.revocationReason,
          rec.revokedAt,
          rec.der,
          rec.createdAt,
        ],
        tx,
      );
    },
    async find(instanceId: string, id: string, tx: Executor = db) {
      const row = await tx
        .selectFrom('device_certificates')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    /** Status facts of one certificate by (issuer, serial), for OCSP (no DER). */
    async statusBySerial(instanceId: string, issuerId: string, serial: string, tx: Executor = db) {
      return tx
        .selectFrom('device_certificates')
        .select(['status', 'revoked_at', 'revocation_reason', 'not_after'])
        .where('instance_id', '=', instanceId)
        .where('issuer_id', '=', issuerId)
        .where('serial', '=', serial)
        .executeTakeFirst();
    },
    /** One certificate by (issuer, serial): how a presented client certificate is recognised. */
    async findBySerial(instanceId: string, issuerId: string, serial: string, tx: Executor = db) {
      const row = await tx
        .selectFrom('device_certificates')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('issuer_id', '=', issuerId)
        .where('serial', '=', serial)
        .executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    /** Status and expiry of many certificates at once (brokers re-check live connections). */
    async statusesOf(
      instanceId: string,
      ids: string[],
      tx: Executor = db,
    ): Promise<Map<string, { status: DeviceCertStatus; notAfter: string }>> {
      const out = new Map<string, { status: DeviceCertStatus; notAfter: string }>();
      for (let i = 0; i < ids.length; i += 1000) {
        const rows = await tx
          .selectFrom('device_certificates')
          .select(['id', 'status', 'not_after'])
          .where('instance_id', '=', instanceId)
          .where('id', 'in', ids.slice(i, i + 1000))
          .execute();
        for (const r of rows)
          out.set(r.id, { status: r.status as DeviceCertStatus, notAfter: r.not_after });
      }
      return out;
    },
    async list(instanceId: string, f: DeviceCertFilter, tx: Executor = db) {
      let q = tx
        .selectFrom('device_certificates')
        .selectAll()
        .where('instance_id', '=', instanceId);
      if (f.deviceId) q = q.where('device_id', '=', f.deviceId);
      if (f.issuerId) q = q.where('issuer_id', '=', f.issuerId);
      if (f.status) q = q.where('status', '=', f.status);
      const rows = await q
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(f.limit)
        .offset(f.offset)
        .execute();
      return rows.map(toRecord);
    },
    /** Marks a valid certificate revoked; false when it was not valid (already revoked). */
    async revoke(
      instanceId: string,
      id: string,
      reason: string,
      at: string,
      tx: Executor = db,
    ): Promise<boolean> {
      const r = await tx
        .updateTable('device_certificates')
        .set({ status: 'revoked', revocation_reason: reason, revoked_at: at })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .where('status', '=', 'valid')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** Revoked, unexpired certificates of one issuer: the entries of its CRL. */
    async revokedOf(instanceId: string, issuerId: string, notExpiredAt: string, tx: Executor = db) {
      return tx
        .selectFrom('device_certificates')
        .select(['serial', 'revoked_at', 'revocation_reason'])
        .where('instance_id', '=', instanceId)
        .where('issuer_id', '=', issuerId)
        .where('status', '=', 'revoked')
        .where('not_after', '>', notExpiredAt)
        .orderBy('revoked_at')
        .orderBy('serial')
        .execute();
    },
    /** How many certificates each issuer has issued, from the counts the database keeps. */
    async countByIssuer(instanceId: string, tx: Executor = db): Promise<Map<string, number>> {
      const rows = await tx
        .selectFrom('issuer_certificate_counts')
        .select(['issuer_id', (eb) => eb.fn.sum<number>('n').as('n')])
        .where('instance_id', '=', instanceId)
        .groupBy('issuer_id')
        .execute();
      return new Map(rows.map((r) => [r.issuer_id, Number(r.n)]));
    },
  };
}
export type DeviceCertRepo = ReturnType<typeof createDeviceCertRepo>;
