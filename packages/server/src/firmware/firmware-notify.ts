import type { Executor } from '../db/database.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';
import { firmwareTopic, firmwareUpdateMessage } from './firmware-fns.js';

/** Outbox topic written with every assignment: tell the batch's devices on their MQTT hub. */
export const FIRMWARE_UPDATE_ASSIGNED_TOPIC = 'firmware.update-assigned';

export interface FirmwareNotifierDeps {
  deviceIds(instanceId: string, batchId: string): Promise<string[]>;
  /** The id of the embedded (`mqtt`) hub the batch's devices use, if they use one. */
  embeddedHubOf(instanceId: string, batchId: string): Promise<string | undefined>;
  /** The batch's current update id (a superseded one is not announced any more). */
  currentUpdateId(instanceId: string, batchId: string): Promise<string | undefined>;
  /** Publishes a retained QoS 1 message on the hub's broker. */
  publish(instanceId: string, hubId: string, topic: string, payload: Buffer): Promise<void>;
}

/** The outbox entry the rollout writes inside its assignment transaction. */
export function enqueueFirmwareAnnouncement(
  outbox: Pick<OutboxRepo, 'enqueue'>,
  tx: Executor,
  e: { instanceId: string; batchId: string; updateId: string },
  now: Date,
): Promise<string> {
  return outbox.enqueue(
    tx,
    {
      instanceId: e.instanceId,
      topic: FIRMWARE_UPDATE_ASSIGNED_TOPIC,
      subject: `batch:${e.batchId}`,
      payload: { batchId: e.batchId, updateId: e.updateId },
    },
    now,
  );
}

/**
 * The outbox side of an assignment: a retained message on `devices/<id>/firmware` for each
 * device of the batch on an embedded hub, so a connected device hears at once and one that
 * connects later still finds it. The check-in stays the authority; the message only says
 * "check now". Idempotent: a retry publishes the same retained message again.
 */
export function createFirmwareNotifier(deps: FirmwareNotifierDeps) {
  return {
    /** Runs one entry; returns how many devices were told. */
    async notify(instanceId: string, batchId: string, updateId: string): Promise<number> {
      if ((await deps.currentUpdateId(instanceId, batchId)) !== updateId) return 0;
      const hubId = await deps.embeddedHubOf(instanceId, batchId);
      if (!hubId) return 0;
      const payload = firmwareUpdateMessage(updateId);
      const ids = await deps.deviceIds(instanceId, batchId);
      for (const id of ids) await deps.publish(instanceId, hubId, firmwareTopic(id), payload);
      return ids.length;
    },
  };
}
export type FirmwareNotifier = ReturnType<typeof createFirmwareNotifier>;
