import type { Selectable } from 'kysely';
import { compiledQuery } from '../db/compiled-query.js';
import type { Executor } from '../db/database.js';
import type { DurationUnit } from '../lib/duration.js';
import type { PolicyTables } from './policy-tables.js';
import type { Policy, PolicyInput } from './policy-types.js';

type Row = Selectable<PolicyTables['policies']>;

function toPolicy(r: Row): Policy {
  return {
    id: r.id,
    name: r.name,
    connectionType: r.connection_type as Policy['connectionType'],
    hubId: r.hub_id,
    databaseConnectionId: r.database_connection_id,
    deviceCertificate: {
      lifetime: {
        value: Number(r.device_lifetime_value),
        unit: r.device_lifetime_unit as DurationUnit,
      },
      keyTypes: JSON.parse(r.device_key_types),
      operationalKeyAllowed: Number(r.operational_key_allowed) === 1,
      autoRenew: Number(r.device_auto_renew) === 1,
      renewGracePeriod: {
        value: Number(r.renew_grace_value),
        unit: r.renew_grace_unit as DurationUnit,
      },
    },
    issuingCertificate: {
      lifetime: {
        value: Number(r.issuing_lifetime_value),
        unit: r.issuing_lifetime_unit as DurationUnit,
      },
      keyType: r.issuing_key_type as Policy['issuingCertificate']['keyType'],
      autoRenew: Number(r.issuing_auto_renew) === 1,
    },
    jwtLifetime:
      r.jwt_lifetime_value === null
        ? null
        : { value: Number(r.jwt_lifetime_value), unit: r.jwt_lifetime_unit as DurationUnit },
    issuingCaId: r.issuing_ca_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function columns(p: PolicyInput) {
  return {
    name: p.name,
    connection_type: p.connectionType,
    hub_id: p.hubId,
    database_connection_id: p.databaseConnectionId,
    device_lifetime_value: p.deviceCertificate.lifetime.value,
    device_lifetime_unit: p.deviceCertificate.lifetime.unit,
    device_key_types: JSON.stringify(p.deviceCertificate.keyTypes),
    operational_key_allowed: p.deviceCertificate.operationalKeyAllowed ? 1 : 0,
    device_auto_renew: p.deviceCertificate.autoRenew ? 1 : 0,
    renew_grace_value: p.deviceCertificate.renewGracePeriod.value,
    renew_grace_unit: p.deviceCertificate.renewGracePeriod.unit,
    issuing_lifetime_value: p.issuingCertificate.lifetime.value,
    issuing_lifetime_unit: p.issuingCertificate.lifetime.unit,
    issuing_key_type: p.issuingCertificate.keyType,
    issuing_auto_renew: p.issuingCertificate.autoRenew ? 1 : 0,
    jwt_lifetime_value: p.jwtLifetime?.value ?? null,
    jwt_lifetime_unit: p.jwtLifetime?.unit ?? null,
  };
}

/** Policies of one instance. */
export function createPolicyRepo(db: Executor) {
  // Every enrolment reads its batch's policy: compiled once.
  const byId = compiledQuery(
    db,
    (q, [instanceId, id]: [string, string]) =>
      q
        .selectFrom('policies')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('id', '=', id),
    2,
  );
  return {
    async insert(
      instanceId: string,
      id: string,
      p: PolicyInput,
      now: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .insertInto('policies')
        .values({
          instance_id: instanceId,
          id,
          ...columns(p),
          issuing_ca_id: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
    },
    async update(
      instanceId: string,
      id: string,
      p: PolicyInput,
      now: string,
      tx: Executor = db,
    ): Promise<boolean> {
      const r = await tx
        .updateTable('policies')
        .set({ ...columns(p), updated_at: now })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async setIssuingCa(
      instanceId: string,
      id: string,
      issuingCaId: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .updateTable('policies')
        .set({ issuing_ca_id: issuingCaId })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    /** Sets the issuing CA only while the policy has none; false when another was first. */
    async setIssuingCaIfNone(
      instanceId: string,
      id: string,
      issuingCaId: string,
      tx: Executor = db,
    ): Promise<boolean> {
      const r = await tx
        .updateTable('policies')
        .set({ issuing_ca_id: issuingCaId })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .where('issuing_ca_id', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async find(instanceId: string, id: string, tx: Executor = db): Promise<Policy | undefined> {
      const [r] = await byId([instanceId, id], tx);
      return r ? toPolicy(r) : undefined;
    },
    async findByName(
      instanceId: string,
      name: string,
      tx: Executor = db,
    ): Promise<Policy | undefined> {
      const r = await tx
        .selectFrom('policies')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('name', '=', name)
        .executeTakeFirst();
      return r ? toPolicy(r) : undefined;
    },
    async list(instanceId: string, tx: Executor = db): Promise<Policy[]> {
      const rows = await tx
        .selectFrom('policies')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .orderBy('name')
        .execute();
      return rows.map(toPolicy);
    },
    async delete(instanceId: string, id: string, tx: Executor = db): Promise<boolean> {
      const r = await tx
        .deleteFrom('policies')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
  };
}
export type PolicyRepo = ReturnType<typeof createPolicyRepo>;
