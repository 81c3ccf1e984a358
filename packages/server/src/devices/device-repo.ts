import type { Selectable, SelectQueryBuilder } from 'kysely';
import { compiledQuery } from '../db/compiled-query.js';
import type { Executor } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { DeviceTables } from './device-tables.js';

export type DeviceState = 'registered' | 'enrolled' | 'renewed' | 'revoked' | 'expired';

export interface Device {
  id: string;
  batchId: string;
  state: DeviceState;
  registeredAt: string;
  enrolledAt: string | null;
  renewedAt: string | null;
  revokedAt: string | null;
  expiredAt: string | null;
  lastSeenAt: string | null;
  /** The newest certificate issued to the device, with its serial and expiry. */
  currentCertId: string | null;
  currentSerial: string | null;
  certNotAfter: string | null;
  renewAt: string | null;
  enrolMethod: string | null;
  keyType: string | null;
  firmwareDigest: string | null;
  revocationReason: string | null;
}

/** Rows per statement in bulk work: well under both dialects' bound-parameter limits. */
const CHUNK = 2000;

type Row = Omit<Selectable<DeviceTables['devices']>, 'csr'>;
/** Every column but the CSR, which only auto-renewal reads. */
export const DEVICE_COLUMNS = [
  'instance_id',
  'id',
  'batch_id',
  'state',
  'registered_at',
  'enrolled_at',
  'renewed_at',
  'revoked_at',
  'expired_at',
  'last_seen_at',
  'current_cert_id',
  'current_serial',
  'cert_not_after',
  'renew_at',
  'enrol_method',
  'key_type',
  'firmware_digest',
  'revocation_reason',
] as const;
export const toDevice = (r: Row): Device => ({
  id: r.id,
  batchId: r.batch_id,
  state: r.state as DeviceState,
  registeredAt: r.registered_at,
  enrolledAt: r.enrolled_at,
  renewedAt: r.renewed_at,
  revokedAt: r.revoked_at,
  expiredAt: r.expired_at,
  lastSeenAt: r.last_seen_at,
  currentCertId: r.current_cert_id,
  currentSerial: r.current_serial,
  certNotAfter: r.cert_not_after,
  renewAt: r.renew_at,
  enrolMethod: r.enrol_method,
  keyType: r.key_type,
  firmwareDigest: r.firmware_digest,
  revocationReason: r.revocation_reason,
});

export interface BatchCounts {
  devices: number;
  enrolled: number;
  renewed: number;
  expired: number;
  revoked: number;
}

/** How many devices match a batch and state filter, from the kept counts (no scan). */
function countOfDevices(
  tx: Executor,
  instanceId: string,
  filter: { batchId?: string; state?: DeviceState },
) {
  let q = tx
    .selectFrom('device_state_counts')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('n'), eb.lit(0)).as('n'))
    .where('instance_id', '=', instanceId);
  if (filter.batchId) q = q.where('batch_id', '=', filter.batchId);
  if (filter.state) q = q.where('state', '=', filter.state);
  return q;
}

/**
 * One page of devices and the total, in one statement: the page's IDs from the index alone
 * (an offset deep in a million rows walks index entries, not table rows), those rows by
 * primary key, and the total as a scalar subquery beside them (from the kept counts, or a
 * count through the primary key for a prefix). Only a page past the end, which has no row to
 * carry the total, asks for the total on its own.
 */
async function pageOfDevices(
  tx: Executor,
  instanceId: string,
  page: {
    ids: SelectQueryBuilder<Database, 'devices', { id: string }>;
    total: SelectQueryBuilder<Database, 'devices' | 'device_state_counts', { n: number }>;
    order: 'asc' | 'desc';
    offset: number;
  },
): Promise<{ items: Device[]; total: number }> {
  const rows = await tx
    .selectFrom('devices')
    .select(DEVICE_COLUMNS)
    .select(page.total.as('total'))
    .where('instance_id', '=', instanceId)
    .where('id', 'in', page.ids)
    .orderBy('registered_at', page.order)
    .orderBy('id', page.order)
    .execute();
  if (rows.length > 0) return { items: rows.map(toDevice), total: Number(rows[0]!.total) };
  // An empty first page means nothing matches; past the end, the total is still wanted.
  if (page.offset === 0) return { items: [], total: 0 };
  return { items: [], total: Number((await page.total.executeTakeFirst())?.n ?? 0) };
}

export function createDeviceRepo(db: Executor) {
  // Device requests proven by a key or a proof read the device by id: compiled once.
  const byId = compiledQuery(
    db,
    (q, [instanceId, id]: [string, string]) =>
      q
        .selectFrom('devices')
        .select(DEVICE_COLUMNS)
        .where('instance_id', '=', instanceId)
        .where('id', '=', id),
    2,
  );
  return {
    /** Which of these IDs exist already, and in which batch. */
    async existing(
      instanceId: string,
      ids: string[],
      tx: Executor = db,
    ): Promise<Map<string, string>> {
      const found = new Map<string, string>();
      for (let i = 0; i < ids.length; i += CHUNK) {
        const rows = await tx
          .selectFrom('devices')
          .select(['id', 'batch_id'])
          .where('instance_id', '=', instanceId)
          .where('id', 'in', ids.slice(i, i + CHUNK))
          .execute();
        for (const r of rows) found.set(r.id, r.batch_id);
      }
      return found;
    },
    /** Registers IDs into a batch; call inside a transaction so a failure leaves none. */
    async insertRegistered(
      instanceId: string,
      batchId: string,
      ids: string[],
      now: string,
      tx: Executor,
    ): Promise<void> {
      // In key order, every index of the table grows at its end instead of at random places:
      // uploading 100,000 IDs is then several times faster, most of all on SQLite.
      const sorted = [...ids].sort();
      for (let i = 0; i < sorted.length; i += CHUNK) {
        await tx
          .insertInto('devices')
          .values(
            sorted.slice(i, i + CHUNK).map((id) => ({
              instance_id: instanceId,
              id,
              batch_id: batchId,
              state: 'registered',
              registered_at: now,
              enrolled_at: null,
              renewed_at: null,
              revoked_at: null,
              expired_at: null,
              last_seen_at: null,
            })),
          )
          .execute();
      }
    },
    async find(instanceId: string, id: string, tx: Executor = db): Promise<Device | undefined> {
      const [r] = await byId([instanceId, id], tx);
      return r ? toDevice(r) : undefined;
    },
    /** State and batch of many devices at once (brokers re-check live connections). */
    async statesOf(
      instanceId: string,
      ids: string[],
      tx: Executor = db,
    ): Promise<Map<string, { state: DeviceState; batchId: string }>> {
      const out = new Map<string, { state: DeviceState; batchId: string }>();
      for (let i = 0; i < ids.length; i += CHUNK) {
        const rows = await tx
          .selectFrom('devices')
          .select(['id', 'state', 'batch_id'])
          .where('instance_id', '=', instanceId)
          .where('id', 'in', ids.slice(i, i + CHUNK))
          .execute();
        for (const r of rows) out.set(r.id, { state: r.state as DeviceState, batchId: r.batch_id });
      }
      return out;
    },
    async listByBatch(
      instanceId: string,
      batchId: string,
      opts: { offset: number; limit: number; state?: DeviceState },
      tx: Executor = db,
    ) {
      let q = tx
        .selectFrom('devices')
        .where('instance_id', '=', instanceId)
        .where('batch_id', '=', batchId);
      if (opts.state) q = q.where('state', '=', opts.state);
      return pageOfDevices(tx, instanceId, {
        ids: q
          .select('id')
          .orderBy('registered_at')
          .orderBy('id')
          .offset(opts.offset)
          .limit(opts.limit),
        total: countOfDevices(tx, instanceId, { batchId, state: opts.state }),
        order: 'asc',
        offset: opts.offset,
      });
    },
    /**
     * Devices of the instance, newest first, filtered by batch, state and a device ID prefix.
     * The total comes from the kept counts unless a prefix is given (a prefix narrows the
     * rows to count through the primary key, so counting them stays cheap).
     */
    async list(
      instanceId: string,
      opts: { offset: number; limit: number; batchId?: string; state?: DeviceState; q?: string },
      tx: Executor = db,
    ) {
      let q = tx.selectFrom('devices').where('instance_id', '=', instanceId);
      if (opts.batchId) q = q.where('batch_id', '=', opts.batchId);
      if (opts.state) q = q.where('state', '=', opts.state);
      const prefix = opts.q?.toLowerCase().replace(/[^0-9a-f]/g, '');
      // A range rather than LIKE: it uses the primary key under any collation ('g' sorts after
      // every hex digit, so [prefix, prefix + 'g') holds exactly the IDs that start with it).
      if (prefix) q = q.where('id', '>=', prefix).where('id', '<', `${prefix}g`);
      return pageOfDevices(tx, instanceId, {
        ids: q
          .select('id')
          .orderBy('registered_at', 'desc')
          .orderBy('id', 'desc')
          .offset(opts.offset)
          .limit(opts.limit),
        total: prefix
          ? q.select((eb) => eb.fn.countAll<number>().as('n'))
          : countOfDevices(tx, instanceId, opts),
        order: 'desc',
        offset: opts.offset,
      });
    },
    /** Every device ID of a batch (for starting an update on all of them). */
    async idsByBatch(instanceId: string, batchId: string, tx: Executor = db): Promise<string[]> {
      const rows = await tx
        .selectFrom('devices')
        .select('id')
        .where('instance_id', '=', instanceId)
        .where('batch_id', '=', batchId)
        .orderBy('id')
        .execute();
      return rows.map((r) => r.id);
    },
    async deleteByBatch(instanceId: string, batchId: string, tx: Executor = db): Promise<void> {
      await tx
        .deleteFrom('devices')
        .where('instance_id', '=', instanceId)
        .where('batch_id', '=', batchId)
        .execute();
    },
    async delete(instanceId: string, id: string, tx: Executor = db): Promise<void> {
      await tx
        .deleteFrom('devices')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    /** Device counts per batch and state, from the counts the database keeps. */
    async countsByBatch(instanceId: string, tx: Executor = db): Promise<Map<string, BatchCounts>> {
      const rows = await tx
        .selectFrom('device_state_counts')
        .select(['batch_id', 'state', (eb) => eb.fn.sum<number>('n').as('n')])
        .where('instance_id', '=', instanceId)
        .groupBy(['batch_id', 'state'])
        .execute();
      const out = new Map<string, BatchCounts>();
      for (const r of rows) {
        const c = out.get(r.batch_id) ?? {
          devices: 0,
          enrolled: 0,
          renewed: 0,
          expired: 0,
          revoked: 0,
        };
        const n = Number(r.n);
        c.devices += n;
        // A renewed device is an enrolled one that has renewed at least once.
        if (r.state === 'enrolled' || r.state === 'renewed') c.enrolled += n;
        if (r.state === 'renewed') c.renewed += n;
        if (r.state === 'expired') c.expired += n;
        if (r.state === 'revoked') c.revoked += n;
        out.set(r.batch_id, c);
      }
      return out;
    },
  };
}
export type DeviceRepo = ReturnType<typeof createDeviceRepo>;
