import type { Executor } from '../../db/database.js';

export type CloudObjectKind =
  | 'thing'
  | 'policy'
  | 'certificate'
  | 'ca'
  | 'identity'
  | 'attestation'
  // A hub's own objects (no device): AWS IoT custom authentication.
  | 'authorizer'
  | 'authorizer-key'
  | 'lambda-permission';

export interface CloudObject {
  hubId: string;
  kind: CloudObjectKind;
  localId: string;
  deviceId: string | null;
  remoteId: string;
  state: string;
  updatedAt: string;
}

type Row = {
  hub_id: string;
  kind: string;
  local_id: string;
  device_id: string | null;
  remote_id: string;
  state: string;
  updated_at: string;
};

const toObject = (r: Row): CloudObject => ({
  hubId: r.hub_id,
  kind: r.kind as CloudObjectKind,
  localId: r.local_id,
  deviceId: r.device_id,
  remoteId: r.remote_id,
  state: r.state,
  updatedAt: r.updated_at,
});

/** The record of what a cloud hub holds for us: written after each call succeeds. */
export function createCloudObjectRepo(db: Executor) {
  return {
    async ofDevice(instanceId: string, hubId: string, deviceId: string): Promise<CloudObject[]> {
      const rows = await db
        .selectFrom('hub_cloud_objects')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('hub_id', '=', hubId)
        .where('device_id', '=', deviceId)
        .execute();
      return rows.map(toObject);
    },
    async find(
      instanceId: string,
      hubId: string,
      kind: CloudObjectKind,
      localId: string,
    ): Promise<CloudObject | undefined> {
      const r = await db
        .selectFrom('hub_cloud_objects')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('hub_id', '=', hubId)
        .where('kind', '=', kind)
        .where('local_id', '=', localId)
        .executeTakeFirst();
      return r ? toObject(r) : undefined;
    },
    /** The hub's objects of one kind (a hub's own, such as its custom authorizer). */
    async ofHub(instanceId: string, hubId: string, kind: CloudObjectKind): Promise<CloudObject[]> {
      const rows = await db
        .selectFrom('hub_cloud_objects')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('hub_id', '=', hubId)
        .where('kind', '=', kind)
        .orderBy('updated_at')
        .execute();
      return rows.map(toObject);
    },
    /** Inserts or replaces one object's record. */
    async put(instanceId: string, o: Omit<CloudObject, 'updatedAt'>, at: string): Promise<void> {
      await db
        .insertInto('hub_cloud_objects')
        .values({
          instance_id: instanceId,
          hub_id: o.hubId,
          kind: o.kind,
          local_id: o.localId,
          device_id: o.deviceId,
          remote_id: o.remoteId,
          state: o.state,
          updated_at: at,
        })
        .onConflict((oc) =>
          oc
            .columns(['instance_id', 'hub_id', 'kind', 'local_id'])
            .doUpdateSet({ remote_id: o.remoteId, state: o.state, updated_at: at }),
        )
        .execute();
    },
    /** Devices of cloud hubs with more than one active certificate: old ones await retiring. */
    async devicesWithOverlap(): Promise<{ instanceId: string; hubId: string; deviceId: string }[]> {
      const rows = await db
        .selectFrom('hub_cloud_objects')
        .select(['instance_id', 'hub_id', 'device_id'])
        .where('kind', '=', 'certificate')
        .where('state', '=', 'active')
        .where('device_id', 'is not', null)
        .groupBy(['instance_id', 'hub_id', 'device_id'])
        .having((eb) => eb.fn.countAll(), '>', 1)
        .execute();
      return rows.map((r) => ({
        instanceId: r.instance_id,
        hubId: r.hub_id,
        deviceId: r.device_id!,
      }));
    },
    async deleteOfHub(instanceId: string, hubId: string): Promise<void> {
      await db
        .deleteFrom('hub_cloud_objects')
        .where('instance_id', '=', instanceId)
        .where('hub_id', '=', hubId)
        .execute();
    },
  };
}
export type CloudObjectRepo = ReturnType<typeof createCloudObjectRepo>;
