import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  deviceClient,
  startMqttScenario,
  toolClient as scenarioTool,
  type MqttScenario,
} from '../src/test-helpers/test-mqtt-scenario.js';
import type { TestServer } from '../src/test-helpers/test-server.js';
import { policyInput, testCtx } from '../src/test-helpers/test-fleet.js';
import {
  closed,
  collect,
  createHubFleet,
  enrolMqttDevice,
  eventually,
  mosquittoRun,
  mosquittoSubscriber,
  revokeMqttDevice,
  tlsArgs,
  type HubFleet,
  type TestMqttDevice,
} from '../src/test-helpers/test-mqtt.js';

for (const dialect of TEST_DIALECTS) {
  describe(`embedded MQTT broker with real clients: revocation and re-checks on ${dialect}`, () => {
    let s: MqttScenario;
    let server: TestServer;
    let port: number;
    let caFile: string;
    let hubA: string;
    let hubB: string;
    let fleetA: HubFleet;
    let a1: TestMqttDevice;
    let b1: TestMqttDevice;
    const i = () => server.runtime.instance.id;
    const cleanup: (() => void)[] = [];
    const mqttJs = (d: TestMqttDevice, opts: object = {}) => deviceClient(s, d, opts);
    const toolClient = () => scenarioTool(s);

    beforeAll(async () => {
      s = await startMqttScenario(dialect);
      ({ server, port, caFile, hubA, hubB, fleetA, a1, b1 } = s);
    });
    afterAll(async () => {
      for (const c of cleanup) c();
      await server?.close();
    });

    it('ok/revocation cuts the live connection, refuses the reconnect and drops session, queue and retained messages', async () => {
      const rt = server.runtime;
      const live = await enrolMqttDevice(server, fleetA);
      const parked = await enrolMqttDevice(server, fleetA);

      // parked: a persistent session with a QoS 1 subscription, a retained message, then offline.
      const p = await mqttJs(parked, { clean: false });
      await p.subscribeAsync(`devices/${parked.deviceId}/commands/#`, { qos: 1 });
      await p.publishAsync(`devices/${parked.deviceId}/state`, 'online', { retain: true, qos: 1 });
      await p.endAsync();
      // a tool (hub A's default rules) queues a command for it.
      const t = await toolClient();
      await t.publishAsync(`devices/${parked.deviceId}/commands/reboot`, 'now', { qos: 1 });
      await t.endAsync();
      const before = await rt.hubs.broker.session(i(), hubA, parked.deviceId);
      expect(before).toMatchObject({ connected: false, queued: 1 });
      expect(before!.subscriptions).toEqual([`devices/${parked.deviceId}/commands/#`]);
      expect(before!.retainedByClient).toEqual([`devices/${parked.deviceId}/state`]);

      // live: mosquitto_sub connected and subscribed.
      const sub = mosquittoSubscriber([
        ...tlsArgs(port, caFile, live, live.deviceId),
        '-t',
        `devices/${live.deviceId}/#`,
        '-d',
      ]);
      cleanup.push(() => sub.proc.kill());
      await eventually(() => sub.output().includes('SUBACK'), 5000, 'SUBACK');

      await revokeMqttDevice(server, live);
      await revokeMqttDevice(server, parked);
      // The broker closes mosquitto_sub's connection at once; connecting again is refused.
      const code = await Promise.race([
        sub.exited,
        new Promise((r) => setTimeout(() => r('still running'), 5000)),
      ]);
      expect(code).not.toBe('still running');
      expect(sub.output()).toMatch(/connection was lost/i);
      await expect(mqttJs(live)).rejects.toThrow(/not authorized/i);
      const again = await mosquittoRun('mosquitto_sub', [
        ...tlsArgs(port, caFile, live, live.deviceId),
        '-t',
        `devices/${live.deviceId}/#`,
        '-W',
        '3',
      ]);
      expect(again.code).not.toBe(0);
      expect(again.out).toMatch(/not authori[sz]ed/i);
      const r = await mosquittoRun('mosquitto_pub', [
        ...tlsArgs(port, caFile, parked, parked.deviceId),
        '-t',
        `devices/${parked.deviceId}/x`,
        '-m',
        'x',
      ]);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/not authori[sz]ed/i);

      const after = await rt.hubs.broker.session(i(), hubA, parked.deviceId);
      expect(after).toEqual({
        connected: false,
        subscriptions: [],
        queued: 0,
        retainedByClient: [],
      });
      // The outbox entry (run by the worker) repeats the work harmlessly.
      await rt.outboxWorker.runOnce();
      const entries = await rt.outbox.forSubject(i(), `device:${parked.deviceId}`);
      expect(entries[0]).toMatchObject({ topic: 'hub.device-revoked', status: 'done' });

      // A tool reading everything gets a1's retained message but not the revoked device's.
      const c = await mqttJs(a1);
      await c.publishAsync(`devices/${a1.deviceId}/state`, 'up', { retain: true, qos: 1 });
      await c.endAsync();
      const reader = await toolClient();
      const seen = collect(reader);
      await reader.subscribeAsync('devices/+/state');
      await eventually(() => seen.length > 0, 5000, 'retained message');
      await new Promise((res) => setTimeout(res, 200));
      expect(seen.map((m) => m.topic)).toEqual([`devices/${a1.deviceId}/state`]);
      expect(seen[0]!.retain).toBe(true);
      await reader.endAsync();
    });

    it('ok/a lost revocation (no event, no outbox) is caught by the periodic re-check', async () => {
      const d = await enrolMqttDevice(server, fleetA);
      const c = await mqttJs(d);
      await revokeMqttDevice(server, d, { quiet: true });
      await closed(c, 5000);
      await expect(mqttJs(d)).rejects.toThrow(/not authorized/i);
    });

    it('ok/a device whose policy moves to another hub is moved at the next re-check', async () => {
      const fleet = await createHubFleet(server, hubA);
      const d = await enrolMqttDevice(server, fleet);
      const c = await mqttJs(d);
      const p = await server.runtime.fleet.policies.get(i(), fleet.policyId);
      await server.runtime.fleet.policies.update(
        i(),
        p.id,
        policyInput({ name: p.name, hubId: hubB }),
        testCtx,
      );
      await closed(c, 5000);
      const watcher = await mqttJs(b1);
      const seen = collect(watcher);
      await watcher.subscribeAsync('#');
      const again = await mqttJs(d);
      await again.publishAsync(`devices/${d.deviceId}/hello`, 'now on B', { qos: 1 });
      await eventually(
        () => seen.some((m) => m.payload === 'now on B'),
        5000,
        'the device on hub B',
      );
      await Promise.all([again.endAsync(), watcher.endAsync()]);
    });
  });
}
