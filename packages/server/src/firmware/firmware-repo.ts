import type { ExpressionBuilder, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Executor } from '../db/database.js';
import type { AttributeFilter } from './firmware-fns.js';
import type { FirmwareTables } from './firmware-tables.js';
import type { Attribute, FirmwareFormat, SignatureKind, SourceFormat } from './firmware-types.js';

/** A firmware record as stored, with its attributes. */
export interface FirmwareRow {
  id: string;
  name: string;
  description: string;
  version: string;
  securityVersion: number;
  format: FirmwareFormat;
  input: SourceFormat;
  baseAddress: number | null;
  size: number;
  sha256: string;
  attributes: Attribute[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface SignatureRow {
  id: string;
  firmwareId: string;
  keyId: string;
  kind: SignatureKind;
  blobSha256: string | null;
  size: number | null;
  createdAt: string;
}

type Row = Selectable<FirmwareTables['firmware']>;

const toSignature = (r: Selectable<FirmwareTables['firmware_signatures']>): SignatureRow => ({
  id: r.id,
  firmwareId: r.firmware_id,
  keyId: r.key_id,
  kind: r.kind as SignatureKind,
  blobSha256: r.blob_sha256,
  size: r.size === null ? null : Number(r.size),
  createdAt: r.created_at,
});

/** Firmware records, their attributes and signatures, and the CMS signer certificates. */
export function createFirmwareRepo(db: Executor) {
  async function withAttributes(instanceId: string, rows: Row[], tx: Executor) {
    if (!rows.length) return [];
    const attrs = await tx
      .selectFrom('firmware_attributes')
      .select(['firmware_id', 'name', 'value'])
      .where('instance_id', '=', instanceId)
      .where(
        'firmware_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('name')
      .execute();
    const by = new Map<string, Attribute[]>();
    for (const a of attrs) {
      const list = by.get(a.firmware_id) ?? [];
      list.push({ name: a.name, value: a.value });
      by.set(a.firmware_id, list);
    }
    return rows.map((r): FirmwareRow => ({
      id: r.id,
      name: r.name,
      description: r.description,
      version: r.version,
      securityVersion: Number(r.security_version),
      format: r.format as FirmwareFormat,
      input: r.source_format as SourceFormat,
      baseAddress: r.base_address === null ? null : Number(r.base_address),
      size: Number(r.size),
      sha256: r.sha256,
      attributes: by.get(r.id) ?? [],
      createdBy: r.created_by,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async function insertAttributes(
    instanceId: string,
    firmwareId: string,
    attributes: Attribute[],
    tx: Executor,
  ) {
    if (!attributes.length) return;
    await tx
      .insertInto('firmware_attributes')
      .values(
        attributes.map((a) => ({
          instance_id: instanceId,
          firmware_id: firmwareId,
          name: a.name,
          value: a.value,
        })),
      )
      .execute();
  }

  return {
    async insert(instanceId: string, f: FirmwareRow, tx: Executor = db): Promise<void> {
      await tx
        .insertInto('firmware')
        .values({
          instance_id: instanceId,
          id: f.id,
          name: f.name,
          description: f.description,
          version: f.version,
          security_version: f.securityVersion,
          format: f.format,
          source_format: f.input,
          base_address: f.baseAddress,
          size: f.size,
          sha256: f.sha256,
          created_by: f.createdBy,
          created_at: f.createdAt,
          updated_at: f.updatedAt,
        })
        .execute();
      await insertAttributes(instanceId, f.id, f.attributes, tx);
    },
    async find(instanceId: string, id: string, tx: Executor = db) {
      const rows = await tx
        .selectFrom('firmware')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
      return (await withAttributes(instanceId, rows, tx))[0];
    },
    async findByName(instanceId: string, name: string, tx: Executor = db) {
      const rows = await tx
        .selectFrom('firmware')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('name', '=', name)
        .execute();
      return (await withAttributes(instanceId, rows, tx))[0];
    },
    /** Firmware whose attributes pass the filter (all of them without one), by name. */
    async list(instanceId: string, filter?: AttributeFilter, tx: Executor = db) {
      let q = tx.selectFrom('firmware as f').selectAll('f').where('f.instance_id', '=', instanceId);
      if (filter && filter.filters.length) {
        const matching = (eb: ExpressionBuilder<Database & { f: Database['firmware'] }, 'f'>) =>
          eb
            .selectFrom('firmware_attributes as a')
            .whereRef('a.instance_id', '=', 'f.instance_id')
            .whereRef('a.firmware_id', '=', 'f.id')
            .where((w) =>
              w.or(
                filter.filters.map((p) =>
                  w.and([w('a.name', '=', p.name), w('a.value', '=', p.value)]),
                ),
              ),
            );
        const distinct = new Set(filter.filters.map((p) => `${p.name}\u0000${p.value}`)).size;
        q =
          filter.operator === 'or'
            ? q.where((eb) => eb.exists(matching(eb).select('a.name')))
            : // Names are unique per firmware, so each matching row is a different pair.
              q.where(
                (eb) => matching(eb).select((s) => s.fn.countAll<number>().as('n')),
                '=',
                distinct,
              );
      }
      return withAttributes(instanceId, await q.orderBy('f.name').execute(), tx);
    },
    async update(
      instanceId: string,
      id: string,
      change: { name?: string; description?: string; attributes?: Attribute[] },
      now: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .updateTable('firmware')
        .set({
          ...(change.name !== undefined && { name: change.name }),
          ...(change.description !== undefined && { description: change.description }),
          updated_at: now,
        })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
      if (change.attributes) {
        await tx
          .deleteFrom('firmware_attributes')
          .where('instance_id', '=', instanceId)
          .where('firmware_id', '=', id)
          .execute();
        await insertAttributes(instanceId, id, change.attributes, tx);
      }
    },
    /** Deletes the record; attributes and signature rows go with it (cascade). */
    async delete(instanceId: string, id: string, tx: Executor = db): Promise<void> {
      await tx
        .deleteFrom('firmware')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    async signaturesOf(
      instanceId: string,
      firmwareIds: string[],
      tx: Executor = db,
    ): Promise<SignatureRow[]> {
      if (!firmwareIds.length) return [];
      const rows = await tx
        .selectFrom('firmware_signatures')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('firmware_id', 'in', firmwareIds)
        .orderBy('created_at')
        .orderBy('kind')
        .execute();
      return rows.map(toSignature);
    },
    async findSignature(
      instanceId: string,
      firmwareId: string,
      keyId: string,
      kind: SignatureKind,
      tx: Executor = db,
    ): Promise<SignatureRow | undefined> {
      const r = await tx
        .selectFrom('firmware_signatures')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('firmware_id', '=', firmwareId)
        .where('key_id', '=', keyId)
        .where('kind', '=', kind)
        .executeTakeFirst();
      return r ? toSignature(r) : undefined;
    },
    /** Records a signature; one that exists already for the image, key and kind is kept. */
    async insertSignature(instanceId: string, s: SignatureRow, tx: Executor = db): Promise<void> {
      await tx
        .insertInto('firmware_signatures')
        .values({
          instance_id: instanceId,
          id: s.id,
          firmware_id: s.firmwareId,
          key_id: s.keyId,
          kind: s.kind,
          blob_sha256: s.blobSha256,
          size: s.size,
          created_at: s.createdAt,
        })
        .onConflict((oc) =>
          oc.columns(['instance_id', 'firmware_id', 'key_id', 'kind']).doNothing(),
        )
        .execute();
    },
    /** Whether any image or signature of the instance is stored under this digest. */
    async blobReferenced(instanceId: string, sha256: string, tx: Executor = db): Promise<boolean> {
      const f = await tx
        .selectFrom('firmware')
        .select('id')
        .where('instance_id', '=', instanceId)
        .where('sha256', '=', sha256)
        .executeTakeFirst();
      if (f) return true;
      const s = await tx
        .selectFrom('firmware_signatures')
        .select('id')
        .where('instance_id', '=', instanceId)
        .where('blob_sha256', '=', sha256)
        .executeTakeFirst();
      return s !== undefined;
    },
    async signerCertificate(
      instanceId: string,
      keyId: string,
      tx: Executor = db,
    ): Promise<{ der: Buffer; notAfter: string } | undefined> {
      const r = await tx
        .selectFrom('firmware_signer_certificates')
        .select(['der', 'not_after'])
        .where('instance_id', '=', instanceId)
        .where('key_id', '=', keyId)
        .executeTakeFirst();
      return r ? { der: Buffer.from(r.der), notAfter: r.not_after } : undefined;
    },
    async saveSignerCertificate(
      instanceId: string,
      keyId: string,
      cert: { der: Buffer; notAfter: string },
      now: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .insertInto('firmware_signer_certificates')
        .values({
          instance_id: instanceId,
          key_id: keyId,
          der: cert.der,
          not_after: cert.notAfter,
          created_at: now,
        })
        .onConflict((oc) =>
          oc
            .columns(['instance_id', 'key_id'])
            .doUpdateSet({ der: cert.der, not_after: cert.notAfter, created_at: now }),
        )
        .execute();
    },
  };
}
export type FirmwareRepo = ReturnType<typeof createFirmwareRepo>;
