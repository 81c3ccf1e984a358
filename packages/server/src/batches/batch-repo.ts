import { compiledQuery } from '../db/compiled-query.js';
import type { Executor } from '../db/database.js';
import type { AttributeFilter, BatchInput } from './batch-types.js';

export interface BatchRow {
  id: string;
  name: string;
  policyId: string;
  policyName: string;
  firmwareId: string | null;
  signingKeyId: string | null;
  attributeFilter: AttributeFilter;
  createdAt: string;
  updatedAt: string;
}

/** Batches of one instance, listed with the name of their policy. */
export function createBatchRepo(db: Executor) {
  const base = (tx: Executor, instanceId: string) =>
    tx
      .selectFrom('batches as b')
      .innerJoin('policies as p', (j) =>
        j.onRef('p.instance_id', '=', 'b.instance_id').onRef('p.id', '=', 'b.policy_id'),
      )
      .select([
        'b.id',
        'b.name',
        'b.policy_id',
        'p.name as policy_name',
        'b.firmware_id',
        'b.signing_key_id',
        'b.attribute_filter',
        'b.created_at',
        'b.updated_at',
      ])
      .where('b.instance_id', '=', instanceId);
  type R = Awaited<ReturnType<ReturnType<typeof base>['execute']>>[number];
  const toRow = (r: R): BatchRow => ({
    id: r.id,
    name: r.name,
    policyId: r.policy_id,
    policyName: r.policy_name,
    firmwareId: r.firmware_id,
    signingKeyId: r.signing_key_id,
    attributeFilter: JSON.parse(r.attribute_filter),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
  // Every enrolment reads its batch: compiled once.
  const byId = compiledQuery(
    db,
    (q, [instanceId, id]: [string, string]) => base(q, instanceId).where('b.id', '=', id),
    2,
  );
  return {
    async insert(
      instanceId: string,
      id: string,
      input: BatchInput,
      now: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .insertInto('batches')
        .values({
          instance_id: instanceId,
          id,
          name: input.name,
          policy_id: input.policyId,
          firmware_id: null,
          signing_key_id: null,
          attribute_filter: JSON.stringify(input.attributeFilter),
          created_at: now,
          updated_at: now,
        })
        .execute();
    },
    async update(
      instanceId: string,
      id: string,
      input: BatchInput,
      now: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .updateTable('batches')
        .set({
          name: input.name,
          policy_id: input.policyId,
          attribute_filter: JSON.stringify(input.attributeFilter),
          updated_at: now,
        })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    async find(instanceId: string, id: string, tx: Executor = db): Promise<BatchRow | undefined> {
      const [r] = await byId([instanceId, id], tx);
      return r ? toRow(r) : undefined;
    },
    async findByName(
      instanceId: string,
      name: string,
      tx: Executor = db,
    ): Promise<BatchRow | undefined> {
      const r = await base(tx, instanceId).where('b.name', '=', name).executeTakeFirst();
      return r ? toRow(r) : undefined;
    },
    async list(instanceId: string, tx: Executor = db): Promise<BatchRow[]> {
      return (await base(tx, instanceId).orderBy('b.name').execute()).map(toRow);
    },
    async namesByIds(
      instanceId: string,
      ids: string[],
      tx: Executor = db,
    ): Promise<Map<string, string>> {
      if (!ids.length) return new Map();
      const rows = await tx
        .selectFrom('batches')
        .select(['id', 'name'])
        .where('instance_id', '=', instanceId)
        .where('id', 'in', ids)
        .execute();
      return new Map(rows.map((r) => [r.id, r.name]));
    },
    async firstUsingPolicy(
      instanceId: string,
      policyId: string,
      tx: Executor = db,
    ): Promise<string | undefined> {
      const r = await tx
        .selectFrom('batches')
        .select('name')
        .where('instance_id', '=', instanceId)
        .where('policy_id', '=', policyId)
        .orderBy('name')
        .executeTakeFirst();
      return r?.name;
    },
    /** Sets (or with null clears) the firmware and signing key assigned to a batch. */
    async setFirmware(
      instanceId: string,
      id: string,
      assignment: { firmwareId: string; signingKeyId: string } | null,
      now: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .updateTable('batches')
        .set({
          firmware_id: assignment?.firmwareId ?? null,
          signing_key_id: assignment?.signingKeyId ?? null,
          updated_at: now,
        })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    /** Names of the batches that have this firmware, or this signing key, assigned. */
    async namesUsing(
      instanceId: string,
      column: 'firmware_id' | 'signing_key_id',
      value: string,
      tx: Executor = db,
    ): Promise<string[]> {
      const rows = await tx
        .selectFrom('batches')
        .select('name')
        .where('instance_id', '=', instanceId)
        .where(column, '=', value)
        .orderBy('name')
        .execute();
      return rows.map((r) => r.name);
    },
    async delete(instanceId: string, id: string, tx: Executor = db): Promise<void> {
      await tx
        .deleteFrom('batches')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
  };
}
export type BatchRepo = ReturnType<typeof createBatchRepo>;
