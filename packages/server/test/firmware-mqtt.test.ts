import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdateView } from '../src/firmware/firmware-types.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { firmwareApi } from '../src/test-helpers/test-firmware.js';
import { subscribeCodes } from '../src/test-helpers/test-mqtt.js';
import {
  deviceClient,
  startMqttScenario,
  type MqttScenario,
} from '../src/test-helpers/test-mqtt-scenario.js';

/** Waits for the first message on a topic, or fails after `ms`. */
function nextMessage(c: MqttClient, topic: string, ms = 15_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no message on ${topic}`)), ms);
    c.on('message', (tp, payload) => {
      if (tp !== topic) return;
      clearTimeout(t);
      resolve(payload);
    });
  });
}

const subscribe = (c: MqttClient, topic: string) =>
  new Promise<void>((resolve, reject) =>
    c.subscribe(topic, { qos: 1 }, (err) => (err ? reject(err) : resolve())),
  );

/** An assignment tells the batch's devices on their embedded hub: devices/<id>/firmware. */
for (const dialect of TEST_DIALECTS) {
  describe(`firmware update messages on the embedded MQTT broker on ${dialect}`, () => {
    let s: MqttScenario;
    const clients: MqttClient[] = [];
    beforeAll(async () => {
      s = await startMqttScenario(dialect);
    });
    afterAll(async () => {
      for (const c of clients) c.end(true);
      await s?.server.close();
    });

    it('ok/a subscribed device hears of its update, a later one finds it retained, other hubs hear nothing', async () => {
      const a1 = await deviceClient(s, s.a1);
      const b1 = await deviceClient(s, s.b1);
      clients.push(a1, b1);
      const topic = `devices/${s.a1.deviceId}/firmware`;
      await subscribe(a1, topic);
      await subscribe(b1, '#'); // hub B's devices may read all of hub B, which is not hub A
      const heardOnB: string[] = [];
      b1.on('message', (tp) => heardOnB.push(tp));
      const got = nextMessage(a1, topic);

      const fa = firmwareApi(s.server, s.admin);
      const fw = await fa.upload('name=mqtt-fw&version=1', randomBytes(2000));
      const key = await fa.signingKey('mqtt key', 'P-256');
      const res = await fa.assign(s.fleetA.batchId, fw.id, key.id);
      expect(res.status, res.text).toBe(200);
      const updateId = res.json<UpdateView>().id;
      // The outbox entry was written with the assignment; run it now rather than wait for the tick.
      await s.server.runtime.outboxWorker.runOnce();

      expect(JSON.parse((await got).toString())).toEqual({
        update: { id: updateId, manifestUrl: `/device/v1/updates/${updateId}/manifest` },
      });
      // The same update the check-in names (the message is only a nudge to check in).
      const a2 = await deviceClient(s, s.a2);
      clients.push(a2);
      const retained = nextMessage(a2, `devices/${s.a2.deviceId}/firmware`);
      await subscribe(a2, `devices/${s.a2.deviceId}/firmware`);
      expect(JSON.parse((await retained).toString()).update.id).toBe(updateId);
      expect(heardOnB).toEqual([]);
    });

    it("fail/a device cannot read another device's firmware topic", async () => {
      const a1 = await deviceClient(s, s.a1);
      clients.push(a1);
      expect(await subscribeCodes(a1, [`devices/${s.a2.deviceId}/firmware`], 1)).toEqual([128]);
    });
  });
}
