import { sql, type Expression, type RawBuilder } from 'kysely';
import { compiledQuery } from '../db/compiled-query.js';
import type { Executor } from '../db/database.js';
import { DEVICE_COLUMNS, toDevice, type Device, type DeviceState } from './device-repo.js';

/** The certificate facts a device state change records. */
export interface CurrentCertificate {
  id: string;
  serial: string;
  notAfter: string;
  renewAt: string;
  /** DER of the request it was issued from (auto-renewal reuses it). */
  csr: Buffer;
}

/** A device certificate presented over TLS, with the device it belongs to (one indexed read). */
export interface PresentedCertificate {
  certId: string;
  status: string;
  notBefore: string;
  notAfter: string;
  device: Device;
}

/** SQL references to a device's columns in a statement that reads the device. */
export interface DeviceColumnRefs {
  instanceId: Expression<string>;
  id: Expression<string>;
  batchId: Expression<string>;
}

/**
 * A value another domain reads with a device in the same statement (a scalar subquery over
 * the device's columns): the check-in's waiting update, so a check-in costs one read.
 */
export type DeviceSubquery = (d: DeviceColumnRefs) => RawBuilder<string | null> | undefined;

/** The columns of the devices table aliased `d`, for a DeviceSubquery. */
export const DEVICE_D_REFS: DeviceColumnRefs = {
  instanceId: sql.ref<string>('d.instance_id'),
  id: sql.ref<string>('d.id'),
  batchId: sql.ref<string>('d.batch_id'),
};

/** A device whose current certificate is due for automatic renewal. */
export interface RenewalCandidate {
  instanceId: string;
  id: string;
  batchId: string;
  currentCertId: string;
  csr: Buffer;
}

const LIVE: DeviceState[] = ['enrolled', 'renewed'];

/**
 * Lifecycle writes on devices: enrolment, renewal, revocation, expiry, check-in times. Each
 * state change is conditional on the state it expects, so two requests racing for one device
 * cannot both win (the loser's transaction rolls back).
 */
export function createDeviceLifecycleRepo(db: Executor, opts: { alongside?: DeviceSubquery } = {}) {
  const certificateQuery = (q: Executor, instanceId: string, issuerId: string, serial: string) =>
    q
      .selectFrom('device_certificates as c')
      .innerJoin('devices as d', (j) =>
        j.onRef('d.instance_id', '=', 'c.instance_id').onRef('d.id', '=', 'c.device_id'),
      )
      .select([
        'c.id as cert_id',
        'c.status as cert_status',
        'c.not_before as cert_not_before',
        'c.not_after as cert_valid_until',
        ...DEVICE_COLUMNS.map((k) => `d.${k}` as const),
      ])
      .where('c.instance_id', '=', instanceId)
      .where('c.issuer_id', '=', issuerId)
      .where('c.serial', '=', serial);
  // Every device request authenticated by its certificate runs one of these: compiled once.
  const byCertificate = compiledQuery(
    db,
    (q, [instanceId, issuerId, serial]: [string, string, string]) =>
      certificateQuery(q, instanceId, issuerId, serial),
    3,
  );
  const byCertificateAlongside = compiledQuery(
    db,
    (q, [instanceId, issuerId, serial]: [string, string, string]) =>
      certificateQuery(q, instanceId, issuerId, serial).select(
        (opts.alongside?.(DEVICE_D_REFS) ?? sql<string | null>`null`).as('alongside'),
      ),
    3,
  );
  type CertificateRow = Awaited<ReturnType<typeof byCertificate>>[number];
  const presented = (r: CertificateRow): PresentedCertificate => ({
    certId: r.cert_id,
    status: r.cert_status,
    notBefore: r.cert_not_before,
    notAfter: r.cert_valid_until,
    device: toDevice(r),
  });
  // Every check-in leads to one of these in a later flush.
  const touchSeen = compiledQuery(
    db,
    (q, [instanceId, id, at]: [string, string, string]) =>
      q
        .updateTable('devices')
        .set({ last_seen_at: at })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id),
    3,
  );
  const touchWithFirmware = compiledQuery(
    db,
    (q, [instanceId, id, at, digest]: [string, string, string, string]) =>
      q
        .updateTable('devices')
        .set({ last_seen_at: at, firmware_digest: digest })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id),
    4,
  );
  // Every enrolment and renewal runs one: compiled once per shape (which columns it sets and
  // whether a current certificate is expected), not built by Kysely on every request. A shape
  // takes the values it uses, in this order: instance, device, time, certificate id, serial,
  // not-after, renew-at, CSR, then the expected certificate, method and key type it has.
  const setCertificateShapes = new Map<
    string,
    (args: unknown[], tx?: Executor) => Promise<{ id: string }[]>
  >();
  function setCertificateQuery(change: {
    state: 'enrolled' | 'renewed';
    expectCertId: string | null;
    enrolMethod?: string;
    keyType?: string;
  }) {
    const enrolled = change.state === 'enrolled';
    const expect = change.expectCertId !== null;
    const method = Boolean(change.enrolMethod);
    const keyType = Boolean(change.keyType);
    const shape = `${change.state}/${expect}/${method}/${keyType}`;
    let run = setCertificateShapes.get(shape);
    if (run) return run;
    const arity = 8 + Number(expect) + Number(method) + Number(keyType);
    run = compiledQuery(
      db,
      (q, a: unknown[]) => {
        const v = a as string[];
        let next = 8;
        const expected = expect ? v[next++]! : undefined;
        const methodArg = method ? v[next++]! : undefined;
        const keyTypeArg = keyType ? v[next++]! : undefined;
        let u = q
          .updateTable('devices')
          .set({
            state: change.state,
            ...(enrolled ? { enrolled_at: v[2]!, renewed_at: null } : { renewed_at: v[2]! }),
            expired_at: null,
            current_cert_id: v[3]!,
            current_serial: v[4]!,
            cert_not_after: v[5]!,
            renew_at: v[6]!,
            csr: a[7] as Buffer,
            ...(methodArg !== undefined ? { enrol_method: methodArg } : {}),
            ...(keyTypeArg !== undefined ? { key_type: keyTypeArg } : {}),
          })
          .where('instance_id', '=', v[0]!)
          .where('id', '=', v[1]!)
          .where('state', '!=', 'revoked');
        u =
          expected !== undefined
            ? u.where('current_cert_id', '=', expected)
            : u.where('current_cert_id', 'is', null);
        return u.returning('id');
      },
      arity,
    );
    setCertificateShapes.set(shape, run);
    return run;
  }

  return {
    /**
     * Records an enrolment or renewal: the new current certificate, the state and its time.
     * `expectCertId` is the current certificate the caller saw (null before the first).
     */
    async setCertificate(
      instanceId: string,
      id: string,
      change: {
        state: 'enrolled' | 'renewed';
        at: string;
        cert: CurrentCertificate;
        expectCertId: string | null;
        enrolMethod?: string;
        keyType?: string;
      },
      tx: Executor = db,
    ): Promise<boolean> {
      const c = change.cert;
      const args: unknown[] = [
        instanceId,
        id,
        change.at,
        c.id,
        c.serial,
        c.notAfter,
        c.renewAt,
        c.csr,
      ];
      if (change.expectCertId !== null) args.push(change.expectCertId);
      if (change.enrolMethod) args.push(change.enrolMethod);
      if (change.keyType) args.push(change.keyType);
      const rows = await setCertificateQuery(change)(args, tx);
      return rows.length === 1;
    },

    /** Marks a device revoked; false when it already was (or does not exist). */
    async markRevoked(
      instanceId: string,
      id: string,
      reason: string,
      at: string,
      tx: Executor = db,
    ): Promise<boolean> {
      const r = await tx
        .updateTable('devices')
        .set({ state: 'revoked', revoked_at: at, revocation_reason: reason })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .where('state', '!=', 'revoked')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** Marks a device expired when it is still live and its certificate has run out. */
    async markExpired(instanceId: string, id: string, at: string, tx: Executor = db) {
      const r = await tx
        .updateTable('devices')
        .set({ state: 'expired', expired_at: at })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .where('state', 'in', LIVE)
        .where('cert_not_after', '<=', at)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** Live devices (any instance) whose current certificate has expired. */
    async dueForExpiry(now: string, limit: number, tx: Executor = db) {
      return tx
        .selectFrom('devices')
        .select(['instance_id', 'id', 'batch_id', 'cert_not_after'])
        .where('state', 'in', LIVE)
        .where('cert_not_after', '<=', now)
        .orderBy('cert_not_after')
        .limit(limit)
        .execute();
    },

    /** Live devices (any instance) past their renewal time whose certificate is still valid. */
    async dueForRenewal(
      now: string,
      limit: number,
      tx: Executor = db,
    ): Promise<RenewalCandidate[]> {
      const rows = await tx
        .selectFrom('devices')
        .select(['instance_id', 'id', 'batch_id', 'current_cert_id', 'csr'])
        .where('state', 'in', LIVE)
        .where('renew_at', '<=', now)
        .where('cert_not_after', '>', now)
        .where('csr', 'is not', null)
        .orderBy('renew_at')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        instanceId: r.instance_id,
        id: r.id,
        batchId: r.batch_id,
        currentCertId: r.current_cert_id!,
        csr: Buffer.from(r.csr!),
      }));
    },

    /** The CSR of a device's current certificate. */
    async csrOf(instanceId: string, id: string, tx: Executor = db): Promise<Buffer | undefined> {
      const r = await tx
        .selectFrom('devices')
        .select('csr')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r?.csr ? Buffer.from(r.csr) : undefined;
    },

    /**
     * A certificate presented by a device (by issuer and serial, never by its CN) joined with
     * its device: what authenticating a device request needs, in one indexed read.
     */
    async findByCertificate(
      instanceId: string,
      issuerId: string,
      serial: string,
      tx: Executor = db,
    ): Promise<PresentedCertificate | undefined> {
      const [r] = await byCertificate([instanceId, issuerId, serial], tx);
      return r && presented(r);
    },
    /** findByCertificate, with the `alongside` value of the device read in the same statement. */
    async findByCertificateAlongside(
      instanceId: string,
      issuerId: string,
      serial: string,
    ): Promise<(PresentedCertificate & { alongside: string | null }) | undefined> {
      const [r] = await byCertificateAlongside([instanceId, issuerId, serial]);
      return r && { ...presented(r), alongside: r.alongside };
    },

    /** Current states of some devices (the connection reconcile). */
    async states(instanceId: string, ids: string[], tx: Executor = db) {
      if (!ids.length) return new Map<string, DeviceState>();
      const rows = await tx
        .selectFrom('devices')
        .select(['id', 'state'])
        .where('instance_id', '=', instanceId)
        .where('id', 'in', ids)
        .execute();
      return new Map(rows.map((r) => [r.id, r.state as DeviceState]));
    },

    /** Writes check-in facts gathered since the last flush (last seen, reported firmware). */
    async touch(
      instanceId: string,
      id: string,
      seen: { at: string; firmwareDigest?: string },
      tx: Executor = db,
    ): Promise<void> {
      if (seen.firmwareDigest)
        await touchWithFirmware([instanceId, id, seen.at, seen.firmwareDigest], tx);
      else await touchSeen([instanceId, id, seen.at], tx);
    },
  };
}
export type DeviceLifecycleRepo = ReturnType<typeof createDeviceLifecycleRepo>;
