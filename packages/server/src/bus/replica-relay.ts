import { z } from 'zod';
import type { EventBus } from './event-bus.js';

/** Channels of the changes that replicas' caches and brokers must hear of. */
export const ISSUING_CA_CHANNEL = 'issuing-ca-created';
export const HUB_CHANGED_CHANNEL = 'hub-changed';

const caSchema = z.object({ instanceId: z.string(), id: z.string() });
const hubSchema = z.object({
  instanceId: z.string(),
  hubId: z.string(),
  kind: z.enum(['created', 'updated', 'deleted']),
});

export interface ReplicaRelayDeps {
  bus: EventBus;
  /** Subscribes to issuing CAs created on this process. */
  onIssuingCaCreated(l: (ca: { instanceId: string; id: string }) => void): () => void;
  /** Subscribes to hub changes made on this process. */
  onHubChange(
    l: (c: { instanceId: string; hubId: string; kind: 'created' | 'updated' | 'deleted' }) => void,
  ): () => void;
  /** What this process does when another replica created an issuing CA. */
  issuingCaCreatedElsewhere(instanceId: string, caId: string): void;
  /** What this process does when a hub was changed on another replica. */
  hubChangedElsewhere(
    instanceId: string,
    hubId: string,
    kind: 'created' | 'updated' | 'deleted',
  ): void;
  log?: { warn(obj: object, msg: string): void };
}

/**
 * Passes the local changes that other replicas cache (the trusted issuing CAs of the MQTT
 * port and the device port, a hub's broker rules) over the bus, and applies theirs here. As
 * with device events, a lost message only delays: the caches expire and the brokers
 * reconcile on their own.
 */
export function createReplicaRelay(deps: ReplicaRelayDeps): () => void {
  const { bus, log } = deps;
  const send = (channel: string, message: unknown) =>
    bus
      .publish(channel, message)
      .catch((err: unknown) => log?.warn({ err, channel }, 'replica relay: not published'));
  const stops = [
    deps.onIssuingCaCreated((ca) =>
      send(ISSUING_CA_CHANNEL, { instanceId: ca.instanceId, id: ca.id }),
    ),
    deps.onHubChange((c) =>
      send(HUB_CHANGED_CHANNEL, { instanceId: c.instanceId, hubId: c.hubId, kind: c.kind }),
    ),
    bus.subscribe(ISSUING_CA_CHANNEL, (m) => {
      const p = caSchema.safeParse(m);
      if (p.success) deps.issuingCaCreatedElsewhere(p.data.instanceId, p.data.id);
    }),
    bus.subscribe(HUB_CHANGED_CHANNEL, (m) => {
      const p = hubSchema.safeParse(m);
      if (p.success) deps.hubChangedElsewhere(p.data.instanceId, p.data.hubId, p.data.kind);
    }),
  ];
  return () => stops.forEach((s) => s());
}
