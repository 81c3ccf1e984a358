import { sql } from 'kysely';
import { compiledQuery } from '../db/compiled-query.js';
import type { Executor } from '../db/database.js';
import type { AuditCheckpoint, AuditQuery, ChainEntry } from './audit-types.js';
import { storedNamesOf } from './renamed-actions.js';

type LogRow = {
  seq: number;
  at: string;
  actor_type: string;
  actor_id: string | null;
  actor_name: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  target_name: string | null;
  result: string;
  source_address: string | null;
  details: string;
  mac: string;
};

const toEntry = (r: LogRow): ChainEntry => ({
  seq: Number(r.seq),
  at: r.at,
  actorType: r.actor_type,
  actorId: r.actor_id,
  actorName: r.actor_name,
  action: r.action,
  targetType: r.target_type,
  targetId: r.target_id,
  targetName: r.target_name,
  result: r.result,
  sourceAddress: r.source_address,
  details: r.details,
  mac: r.mac,
});

const LOG_COLUMNS = [
  'seq',
  'at',
  'actor_type',
  'actor_id',
  'actor_name',
  'action',
  'target_type',
  'target_id',
  'target_name',
  'result',
  'source_address',
  'details',
  'mac',
] as const;

const TEXT_COLUMNS = [
  'action',
  'actor_name',
  'target_name',
  'target_id',
  'source_address',
  'details',
] as const;

/** Escapes LIKE wildcards so a filter matches its text literally. */
const likeLiteral = (s: string) => `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export interface ChainHead {
  chainKey: Buffer;
  signingKeyId: string;
  seq: number;
  mac: string;
}

/** An entry's values in the order insertEntry binds them (after the instance). */
type ChainEntryValues = [
  seq: number,
  at: string,
  actorType: string,
  actorId: string | null,
  actorName: string,
  action: string,
  targetType: string | null,
  targetId: string | null,
  targetName: string | null,
  result: string,
  sourceAddress: string | null,
  details: string,
  mac: string,
];

/** The audit tables: the chain head, the entries and the checkpoints of one instance. */
export function createAuditRepo(db: Executor) {
  // Every audited write runs these three (enrolment: twice): compiled once.
  const lock = compiledQuery(
    db,
    (q, [instanceId]: [string]) =>
      q
        .updateTable('audit_chain')
        .set((eb) => ({ seq: eb.ref('seq') }))
        .where('instance_id', '=', instanceId)
        .returning(['seq', 'mac']),
    1,
  );
  const advance = compiledQuery(
    db,
    (q, [instanceId, seq, mac, at]: [string, number, string, string]) =>
      q
        .updateTable('audit_chain')
        .set({ seq, mac, updated_at: at })
        .where('instance_id', '=', instanceId),
    4,
  );
  const insertRow = compiledQuery(
    db,
    (q, a: [string, ...ChainEntryValues]) =>
      q.insertInto('audit_log').values({
        instance_id: a[0],
        seq: a[1],
        at: a[2],
        actor_type: a[3],
        actor_id: a[4],
        actor_name: a[5],
        action: a[6],
        target_type: a[7],
        target_id: a[8],
        target_name: a[9],
        result: a[10],
        source_address: a[11],
        details: a[12],
        mac: a[13],
      }),
    14,
  );
  return {
    async findHead(instanceId: string, tx: Executor = db): Promise<ChainHead | undefined> {
      const r = await tx
        .selectFrom('audit_chain')
        .select(['chain_key', 'signing_key_id', 'seq', 'mac'])
        .where('instance_id', '=', instanceId)
        .executeTakeFirst();
      return r
        ? {
            chainKey: Buffer.from(r.chain_key),
            signingKeyId: r.signing_key_id,
            seq: Number(r.seq),
            mac: r.mac,
          }
        : undefined;
    },
    /** Creates the chain head unless one exists; true if this call created it. */
    async insertHead(
      instanceId: string,
      head: ChainHead & { at: string },
      tx: Executor = db,
    ): Promise<boolean> {
      const res = await tx
        .insertInto('audit_chain')
        .values({
          instance_id: instanceId,
          chain_key: head.chainKey,
          signing_key_id: head.signingKeyId,
          seq: head.seq,
          mac: head.mac,
          created_at: head.at,
          updated_at: head.at,
        })
        .onConflict((oc) => oc.column('instance_id').doNothing())
        .executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    /**
     * Takes the write lock on the chain head and returns it. On PostgreSQL the UPDATE holds the
     * row lock until the transaction ends; on SQLite it makes the transaction the writer at once
     * (so a deferred transaction never has to upgrade from a stale snapshot).
     */
    async lockHead(
      instanceId: string,
      tx: Executor,
    ): Promise<{ seq: number; mac: string } | undefined> {
      const [r] = await lock([instanceId], tx);
      return r ? { seq: Number(r.seq), mac: r.mac } : undefined;
    },
    async advanceHead(
      instanceId: string,
      seq: number,
      mac: string,
      at: string,
      tx: Executor,
    ): Promise<void> {
      await advance([instanceId, seq, mac, at], tx);
    },
    async insertEntry(instanceId: string, e: ChainEntry, tx: Executor): Promise<void> {
      await insertRow(
        [
          instanceId,
          e.seq,
          e.at,
          e.actorType,
          e.actorId,
          e.actorName,
          e.action,
          e.targetType,
          e.targetId,
          e.targetName,
          e.result,
          e.sourceAddress,
          e.details,
          e.mac,
        ],
        tx,
      );
    },
    /** Entries in ascending order after `afterSeq`, for verification. */
    async pageAscending(
      instanceId: string,
      afterSeq: number,
      limit: number,
      tx: Executor = db,
    ): Promise<ChainEntry[]> {
      const rows = await tx
        .selectFrom('audit_log')
        .select(LOG_COLUMNS)
        .where('instance_id', '=', instanceId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map(toEntry);
    },
    /** Newest first, filtered; `before` is the keyset cursor. */
    async query(instanceId: string, q: AuditQuery, tx: Executor = db): Promise<ChainEntry[]> {
      let sel = tx
        .selectFrom('audit_log')
        .select(LOG_COLUMNS)
        .where('instance_id', '=', instanceId);
      if (q.before !== undefined) sel = sel.where('seq', '<', q.before);
      if (q.from) sel = sel.where('at', '>=', q.from);
      if (q.to) sel = sel.where('at', '<', q.to);
      if (q.action) {
        // Entries recorded before a rename keep their old name: the filter finds them too.
        const names = storedNamesOf(q.action);
        sel = sel.where((eb) =>
          eb.or(
            names.map((n) =>
              n.detailsLike
                ? eb.and([eb('action', '=', n.action), eb('details', 'like', n.detailsLike)])
                : eb('action', '=', n.action),
            ),
          ),
        );
      }
      if (q.result) sel = sel.where('result', '=', q.result);
      if (q.text) {
        const pattern = likeLiteral(q.text);
        // ESCAPE is explicit: SQLite has no default escape character for LIKE.
        sel = sel.where((eb) =>
          eb.or(
            TEXT_COLUMNS.map(
              (c) => sql<boolean>`lower(coalesce(${sql.ref(c)}, '')) like ${pattern} escape '\\'`,
            ),
          ),
        );
      }
      const rows = await sel.orderBy('seq', 'desc').limit(q.limit).execute();
      return rows.map(toEntry);
    },
    async insertCheckpoint(instanceId: string, cp: AuditCheckpoint, tx: Executor = db) {
      await tx
        .insertInto('audit_checkpoints')
        .values({
          instance_id: instanceId,
          seq: cp.seq,
          mac: cp.mac,
          at: cp.at,
          key_id: cp.keyId,
          signature: cp.signature,
        })
        .onConflict((oc) => oc.columns(['instance_id', 'seq']).doNothing())
        .execute();
    },
    async lastCheckpointSeq(instanceId: string, tx: Executor = db): Promise<number> {
      const r = await tx
        .selectFrom('audit_checkpoints')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('instance_id', '=', instanceId)
        .executeTakeFirst();
      return Number(r?.seq ?? 0);
    },
    /** Checkpoints with fromSeq <= seq <= toSeq (toSeq omitted: no upper bound), ascending. */
    async checkpoints(
      instanceId: string,
      fromSeq: number,
      toSeq?: number,
      tx: Executor = db,
    ): Promise<AuditCheckpoint[]> {
      let q = tx
        .selectFrom('audit_checkpoints')
        .select(['seq', 'mac', 'at', 'key_id', 'signature'])
        .where('instance_id', '=', instanceId)
        .where('seq', '>=', fromSeq);
      if (toSeq !== undefined) q = q.where('seq', '<=', toSeq);
      const rows = await q.orderBy('seq').execute();
      return rows.map((r) => ({
        seq: Number(r.seq),
        mac: r.mac,
        at: r.at,
        keyId: r.key_id,
        signature: r.signature,
      }));
    },
  };
}
export type AuditRepo = ReturnType<typeof createAuditRepo>;
