import type { Fleet } from '../batches/fleet.js';
import type { MosquittoClient } from '../mqtt/mosquitto-fns.js';
import type { HubRepo, StoredHub } from './hub-repo.js';

const PAGE = 1000;

/**
 * The clients a managed broker must know: every enrolled (or renewed) device whose batch's
 * policy points at the hub, and the hub's tools. Read through the fleet's services.
 */
export async function hubMembers(
  fleet: Pick<Fleet, 'policies' | 'batches'>,
  repo: Pick<HubRepo, 'listTools'>,
  instanceId: string,
  hub: StoredHub,
): Promise<MosquittoClient[]> {
  const policyIds = new Set(
    (await fleet.policies.list(instanceId)).filter((p) => p.hubId === hub.id).map((p) => p.id),
  );
  const batches = (await fleet.batches.list(instanceId)).filter((b) => policyIds.has(b.policyId));
  const out: MosquittoClient[] = [];
  for (const b of batches) {
    for (const state of ['enrolled', 'renewed'] as const) {
      for (let offset = 0; ; offset += PAGE) {
        const page = await fleet.batches.listDevices(instanceId, b.id, {
          offset,
          limit: PAGE,
          state,
        });
        for (const d of page.items)
          out.push({ kind: 'device', username: d.id, clientId: d.id, label: d.id });
        if (offset + PAGE >= page.total) break;
      }
    }
  }
  for (const t of await repo.listTools(instanceId, hub.id))
    out.push({ kind: 'tool', username: t.certificateCn, clientId: t.clientId, label: t.name });
  return out;
}
