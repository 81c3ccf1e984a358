import type { Executor } from '../db/database.js';

export interface CrlRow {
  issuerId: string;
  number: number;
  thisUpdate: string;
  nextUpdate: string;
  der: Buffer;
  revision: number;
  builtRevision: number;
}

/** A CA that may need a CRL, with the state of its current one (if any). */
export interface CrlCandidate {
  instanceId: string;
  issuerId: string;
  notAfter: string;
  thisUpdate: string | null;
  nextUpdate: string | null;
  revision: number | null;
  builtRevision: number | null;
}

export interface CachedOcsp {
  der: Buffer;
  thisUpdate: string;
  nextUpdate: string;
}

/** CRLs and cached OCSP responses: what revocation publishes. */
export function createRevocationRepo(db: Executor) {
  return {
    async crl(
      instanceId: string,
      issuerId: string,
      tx: Executor = db,
    ): Promise<CrlRow | undefined> {
      const r = await tx
        .selectFrom('crls')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('issuer_id', '=', issuerId)
        .executeTakeFirst();
      return r
        ? {
            issuerId: r.issuer_id,
            number: Number(r.number),
            thisUpdate: r.this_update,
            nextUpdate: r.next_update,
            der: Buffer.from(r.der),
            revision: Number(r.revision),
            builtRevision: Number(r.built_revision),
          }
        : undefined;
    },
    /** Stores a newly built CRL unless a newer one (higher number) is already there. */
    async saveCrl(instanceId: string, row: Omit<CrlRow, 'revision'>, tx: Executor = db) {
      const values = {
        number: row.number,
        this_update: row.thisUpdate,
        next_update: row.nextUpdate,
        der: row.der,
        built_revision: row.builtRevision,
      };
      const updated = await tx
        .updateTable('crls')
        .set(values)
        .where('instance_id', '=', instanceId)
        .where('issuer_id', '=', row.issuerId)
        .where('number', '<', row.number)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 1) return;
      await tx
        .insertInto('crls')
        .values({ instance_id: instanceId, issuer_id: row.issuerId, ...values })
        .onConflict((oc) => oc.columns(['instance_id', 'issuer_id']).doNothing())
        .execute();
    },
    /** Marks an issuer's CRL stale (in the revocation's transaction). */
    async bumpRevision(instanceId: string, issuerId: string, tx: Executor = db) {
      await tx
        .updateTable('crls')
        .set((eb) => ({ revision: eb('revision', '+', 1) }))
        .where('instance_id', '=', instanceId)
        .where('issuer_id', '=', issuerId)
        .execute();
    },
    /** Root and issuing CAs that have not expired, with their CRL state. */
    async crlCandidates(
      at: string,
      instanceId?: string,
      tx: Executor = db,
    ): Promise<CrlCandidate[]> {
      let q = tx
        .selectFrom('ca_certificates as c')
        .leftJoin('crls as l', (j) =>
          j.onRef('l.instance_id', '=', 'c.instance_id').onRef('l.issuer_id', '=', 'c.id'),
        )
        .select([
          'c.instance_id',
          'c.id',
          'c.not_after',
          'l.this_update',
          'l.next_update',
          'l.revision',
          'l.built_revision',
        ])
        .where('c.kind', 'in', ['root', 'issuing'])
        .where('c.not_after', '>', at);
      if (instanceId) q = q.where('c.instance_id', '=', instanceId);
      const rows = await q.execute();
      return rows.map((r) => ({
        instanceId: r.instance_id,
        issuerId: r.id,
        notAfter: r.not_after,
        thisUpdate: r.this_update,
        nextUpdate: r.next_update,
        revision: r.revision === null ? null : Number(r.revision),
        builtRevision: r.built_revision === null ? null : Number(r.built_revision),
      }));
    },
    async ocsp(
      instanceId: string,
      issuerId: string,
      serial: string,
      hashAlg: string,
      tx: Executor = db,
    ): Promise<CachedOcsp | undefined> {
      const r = await tx
        .selectFrom('ocsp_responses')
        .select(['der', 'this_update', 'next_update'])
        .where('instance_id', '=', instanceId)
        .where('issuer_id', '=', issuerId)
        .where('serial', '=', serial)
        .where('hash_alg', '=', hashAlg)
        .executeTakeFirst();
      return r
        ? { der: Buffer.from(r.der), thisUpdate: r.this_update, nextUpdate: r.next_update }
        : undefined;
    },
    async saveOcsp(
      instanceId: string,
      issuerId: string,
      serial: string,
      hashAlg: string,
      resp: CachedOcsp,
      tx: Executor = db,
    ) {
      const values = { der: resp.der, this_update: resp.thisUpdate, next_update: resp.nextUpdate };
      await tx
        .insertInto('ocsp_responses')
        .values({
          instance_id: instanceId,
          issuer_id: issuerId,
          serial,
          hash_alg: hashAlg,
          ...values,
        })
        .onConflict((oc) =>
          oc.columns(['instance_id', 'issuer_id', 'serial', 'hash_alg']).doUpdateSet(values),
        )
        .execute();
    },
    /** Drops the cached responses of one certificate (its status changed). */
    async dropOcsp(instanceId: string, issuerId: string, serial: string, tx: Executor = db) {
      await tx
        .deleteFrom('ocsp_responses')
        .where('instance_id', '=', instanceId)
        .where('issuer_id', '=', issuerId)
        .where('serial', '=', serial)
        .execute();
    },
  };
}
export type RevocationRepo = ReturnType<typeof createRevocationRepo>;
