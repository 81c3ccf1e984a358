import type { Selectable } from 'kysely';
import type { Executor } from '../db/database.js';
import type { HubTables } from './hub-tables.js';
import type { HubRecord, HubType } from './hub-types.js';

type Row = Selectable<HubTables['hubs']>;
type ToolRow = Selectable<HubTables['hub_tools']>;

export interface StoredHub extends HubRecord {
  /** The sealed secrets blob (see hub-service). */
  sealedSecrets: Buffer;
  platformKeyId: string | null;
  platformCertificateId: string | null;
}

/** A third-party tool of a broker-type hub. */
export interface HubTool {
  id: string;
  hubId: string;
  name: string;
  clientId: string;
  certificateId: string;
  certificateCn: string;
  keySource: 'generated' | 'csr';
  createdAt: string;
}

const toHub = (r: Row): StoredHub => ({
  id: r.id,
  name: r.name,
  type: r.type as HubType,
  settings: JSON.parse(r.settings) as Record<string, unknown>,
  toolsCaId: r.tools_ca_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  sealedSecrets: Buffer.from(r.secrets),
  platformKeyId: r.platform_key_id,
  platformCertificateId: r.platform_certificate_id,
});

const toTool = (r: ToolRow): HubTool => ({
  id: r.id,
  hubId: r.hub_id,
  name: r.name,
  clientId: r.client_id,
  certificateId: r.certificate_id,
  certificateCn: r.certificate_cn,
  keySource: r.key_source as HubTool['keySource'],
  createdAt: r.created_at,
});

/** Hubs and their tools, of one instance at a time. */
export function createHubRepo(db: Executor) {
  return {
    async insert(
      instanceId: string,
      h: { id: string; name: string; type: HubType; settings: unknown; secrets: Buffer },
      now: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .insertInto('hubs')
        .values({
          instance_id: instanceId,
          id: h.id,
          name: h.name,
          type: h.type,
          settings: JSON.stringify(h.settings),
          secrets: h.secrets,
          tools_ca_id: null,
          platform_key_id: null,
          platform_certificate_id: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
    },
    async update(
      instanceId: string,
      id: string,
      h: { name: string; settings: unknown; secrets: Buffer },
      now: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .updateTable('hubs')
        .set({
          name: h.name,
          settings: JSON.stringify(h.settings),
          secrets: h.secrets,
          updated_at: now,
        })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    async find(instanceId: string, id: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('hubs')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? toHub(r) : undefined;
    },
    async findByName(instanceId: string, name: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('hubs')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('name', '=', name)
        .executeTakeFirst();
      return r ? toHub(r) : undefined;
    },
    async list(instanceId: string, tx: Executor = db): Promise<StoredHub[]> {
      const rows = await tx
        .selectFrom('hubs')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .orderBy('name')
        .execute();
      return rows.map(toHub);
    },
    /** Hubs of some types across every instance (for the brokers' periodic work). */
    async listOfTypes(
      types: HubType[],
      tx: Executor = db,
    ): Promise<(StoredHub & { instanceId: string })[]> {
      const rows = await tx.selectFrom('hubs').selectAll().where('type', 'in', types).execute();
      return rows.map((r) => ({ ...toHub(r), instanceId: r.instance_id }));
    },
    async delete(instanceId: string, id: string, tx: Executor = db): Promise<void> {
      await tx
        .deleteFrom('hubs')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    /** Records the hub's tools CA unless another request already did; the stored one wins. */
    async setToolsCa(instanceId: string, id: string, caId: string, tx: Executor = db) {
      const r = await tx
        .updateTable('hubs')
        .set({ tools_ca_id: caId })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .where('tools_ca_id', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async setPlatformClient(
      instanceId: string,
      id: string,
      keyId: string,
      certificateId: string,
      tx: Executor = db,
    ): Promise<void> {
      await tx
        .updateTable('hubs')
        .set({ platform_key_id: keyId, platform_certificate_id: certificateId })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },

    async insertTool(instanceId: string, t: HubTool, tx: Executor = db): Promise<void> {
      await tx
        .insertInto('hub_tools')
        .values({
          instance_id: instanceId,
          id: t.id,
          hub_id: t.hubId,
          name: t.name,
          client_id: t.clientId,
          certificate_id: t.certificateId,
          certificate_cn: t.certificateCn,
          key_source: t.keySource,
          created_at: t.createdAt,
        })
        .execute();
    },
    async listTools(instanceId: string, hubId: string, tx: Executor = db): Promise<HubTool[]> {
      const rows = await tx
        .selectFrom('hub_tools')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('hub_id', '=', hubId)
        .orderBy('name')
        .execute();
      return rows.map(toTool);
    },
    async findTool(instanceId: string, id: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('hub_tools')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? toTool(r) : undefined;
    },
    async findToolByName(instanceId: string, hubId: string, name: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('hub_tools')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('hub_id', '=', hubId)
        .where('name', '=', name)
        .executeTakeFirst();
      return r ? toTool(r) : undefined;
    },
    /** The tools holding these certificates (a broker maps a client certificate to its tool). */
    async toolsByCertificates(
      instanceId: string,
      certificateIds: string[],
      tx: Executor = db,
    ): Promise<Map<string, HubTool>> {
      const out = new Map<string, HubTool>();
      for (let i = 0; i < certificateIds.length; i += 1000) {
        const rows = await tx
          .selectFrom('hub_tools')
          .selectAll()
          .where('instance_id', '=', instanceId)
          .where('certificate_id', 'in', certificateIds.slice(i, i + 1000))
          .execute();
        for (const r of rows) out.set(r.certificate_id, toTool(r));
      }
      return out;
    },
    async deleteTool(instanceId: string, id: string, tx: Executor = db): Promise<void> {
      await tx
        .deleteFrom('hub_tools')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    async deleteTools(instanceId: string, hubId: string, tx: Executor = db): Promise<void> {
      await tx
        .deleteFrom('hub_tools')
        .where('instance_id', '=', instanceId)
        .where('hub_id', '=', hubId)
        .execute();
    },
  };
}
export type HubRepo = ReturnType<typeof createHubRepo>;
