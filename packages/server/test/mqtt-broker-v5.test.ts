import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  deviceClient,
  startMqttScenario,
  toolClient,
  type MqttScenario,
  type ToolCredentials,
} from '../src/test-helpers/test-mqtt-scenario.js';
import {
  collect,
  connectMqtt,
  enrolMqttDevice,
  revokeMqttDevice,
  eventually,
  mosquittoRun,
  mosquittoSubscriber,
  subscribeCodes,
  tlsArgs,
} from '../src/test-helpers/test-mqtt.js';

/** MQTT 5 reason codes (§2.4). */
const GRANTED_QOS_1 = 1;
const NOT_AUTHORIZED = 0x87;

/** mosquitto_pub/sub arguments for MQTT 5 (tlsArgs asks for 3.1.1). */
const v5 = (args: string[]) => args.map((a) => (a === 'mqttv311' ? 'mqttv5' : a));

for (const dialect of TEST_DIALECTS) {
  describe(`embedded MQTT broker: MQTT 5 and shared subscriptions on ${dialect}`, () => {
    let s: MqttScenario;
    let second: ToolCredentials;
    const open: MqttClient[] = [];
    const keep = (c: MqttClient) => (open.push(c), c);
    const tool2 = (opts: object = {}) =>
      connectMqtt(
        s.port,
        s.server.rootPem,
        { certPem: second.certificate, keyPem: second.privateKey },
        { clientId: second.clientId, ...opts },
      );

    beforeAll(async () => {
      s = await startMqttScenario(dialect);
      const made = await s.server.request('POST', `/api/v1/hubs/${s.hubA}/tools`, {
        headers: s.admin.headers,
        body: { name: 'Worker two' },
      });
      expect(made.status).toBe(201);
      second = made.json<{ credentials: ToolCredentials }>().credentials;
    });
    afterAll(async () => {
      for (const c of open) c.end(true);
      await s?.server.close();
    });

    it('ok/an MQTT 5 device publishes and subscribes within its topics', async () => {
      const c = keep(await deviceClient(s, s.a1, { protocolVersion: 5 }));
      const seen = collect(c);
      const codes = await subscribeCodes(c, [`devices/${s.a1.deviceId}/#`], 1);
      expect(codes).toEqual([GRANTED_QOS_1]);
      await c.publishAsync(`devices/${s.a1.deviceId}/telemetry`, 'v5 hello', { qos: 1 });
      await eventually(() => seen.some((m) => m.payload === 'v5 hello'), 5000, 'own message');
      c.end();
    });

    it('fail/MQTT 5: a forbidden publish gets PUBACK 0x87 and the connection stays', async () => {
      const c = keep(await deviceClient(s, s.a1, { protocolVersion: 5 }));
      const acks: number[] = [];
      c.on('packetreceive', (p: { cmd: string; reasonCode?: number }) => {
        if (p.cmd === 'puback') acks.push(p.reasonCode ?? 0);
      });
      await c
        .publishAsync(`devices/${s.a2.deviceId}/commands/x`, 'forged', { qos: 1 })
        .catch(() => undefined);
      await eventually(() => acks.length > 0, 5000, 'PUBACK');
      expect(acks).toEqual([NOT_AUTHORIZED]);
      expect(c.connected).toBe(true);
      expect(await subscribeCodes(c, [`devices/${s.a2.deviceId}/#`])).toEqual([NOT_AUTHORIZED]);
      c.end();
    });

    it('ok/mosquitto_sub and mosquitto_pub with -V mqttv5 exchange messages', async () => {
      const sub = mosquittoSubscriber([
        ...v5(tlsArgs(s.port, s.caFile, s.a2, s.a2.deviceId)),
        '-t',
        `devices/${s.a2.deviceId}/#`,
        '-v',
        '-d',
        '-C',
        '1',
      ]);
      await eventually(() => sub.output().includes('SUBACK'), 5000, 'SUBACK');
      const r = await mosquittoRun('mosquitto_pub', [
        ...v5(tlsArgs(s.port, s.caFile, s.a1, s.a1.deviceId)),
        '-t',
        `devices/${s.a1.deviceId}/telemetry`,
        '-m',
        'from a1',
      ]);
      expect(r.code).toBe(0);
      // a2 may not read a1's topics; a tool's command reaches it.
      const t = keep(await toolClient(s));
      await t.publishAsync(`devices/${s.a2.deviceId}/commands/led`, 'on', { qos: 1 });
      expect(await sub.exited).toBe(0);
      expect(sub.lines.filter((l) => l.startsWith('devices/'))).toEqual([
        `devices/${s.a2.deviceId}/commands/led on`,
      ]);
      t.end();
    });

    it('ok/$share: each message goes to one member of the group, MQTT 5 and 3.1.1 members alike', async () => {
      const m1 = keep(
        await connectMqtt(
          s.port,
          s.server.rootPem,
          { certPem: s.tool.certificate, keyPem: s.tool.privateKey },
          { clientId: s.tool.clientId, protocolVersion: 5 },
        ),
      );
      const m2 = keep(await tool2({ protocolVersion: 4 }));
      const got1 = collect(m1);
      const got2 = collect(m2);
      const filter = '$share/workers/devices/+/telemetry';
      expect(await subscribeCodes(m1, [filter], 1)).toEqual([GRANTED_QOS_1]);
      expect(await subscribeCodes(m2, [filter], 1)).toEqual([GRANTED_QOS_1]);
      const d = keep(await deviceClient(s, s.a1, { protocolVersion: 5 }));
      for (let n = 0; n < 6; n++)
        await d.publishAsync(`devices/${s.a1.deviceId}/telemetry`, `m${n}`, { qos: 1 });
      await eventually(() => got1.length + got2.length >= 6, 5000, 'six shared messages');
      await new Promise((r) => setTimeout(r, 300));
      const all = [...got1, ...got2].map((m) => m.payload).sort();
      expect(all).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
      expect(got1.length).toBe(3);
      expect(got2.length).toBe(3);
      // Unsubscribing the shared filter leaves the other member taking everything.
      await m2.unsubscribeAsync(filter);
      for (let n = 6; n < 8; n++)
        await d.publishAsync(`devices/${s.a1.deviceId}/telemetry`, `m${n}`, { qos: 1 });
      await eventually(() => got1.length >= 5, 5000, 'the remaining member');
      expect(got2.length).toBe(3);
      for (const c of [m1, m2, d]) c.end();
    });

    it('fail/$share obeys the rules: a device cannot read another device or the hub through a group', async () => {
      const c = keep(await deviceClient(s, s.a1, { protocolVersion: 5 }));
      const codes = await subscribeCodes(c, [
        `$share/g/devices/${s.a2.deviceId}/#`,
        '$share/g/#',
        `$share/g/devices/${s.a1.deviceId}/#`,
      ]);
      expect(codes).toEqual([NOT_AUTHORIZED, NOT_AUTHORIZED, 0]);
      const old = keep(await deviceClient(s, s.a2, { protocolVersion: 4 }));
      expect(
        await subscribeCodes(old, [`$share/g/devices/${s.a1.deviceId}/#`, '$share/g/#']),
      ).toEqual([128, 128]);
      const seen = collect(c);
      await old.publishAsync(`devices/${s.a2.deviceId}/telemetry`, 'not for a1', { qos: 1 });
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toEqual([]);
      c.end();
      old.end();
    });

    it('fail/$share groups are per hub: a hub B member of the same group sees nothing of hub A', async () => {
      const b = keep(await deviceClient(s, s.b1, { protocolVersion: 5 }));
      const seenB = collect(b);
      expect(await subscribeCodes(b, ['$share/workers/devices/+/telemetry'])).toEqual([0]);
      const m1 = keep(await toolClient(s));
      const seenA = collect(m1);
      expect(await subscribeCodes(m1, ['$share/workers/devices/+/telemetry'])).toEqual([0]);
      const d = keep(await deviceClient(s, s.a1, { protocolVersion: 5 }));
      for (let n = 0; n < 4; n++)
        await d.publishAsync(`devices/${s.a1.deviceId}/telemetry`, `a${n}`, { qos: 1 });
      await eventually(() => seenA.length >= 4, 5000, 'hub A member takes all four');
      expect(seenB).toEqual([]);
      for (const c of [b, m1, d]) c.end();
    });

    it('ok/mosquitto_sub -V mqttv5 takes part in a shared group', async () => {
      const sub = mosquittoSubscriber([
        ...v5(tlsArgs(s.port, s.caFile, s.a2, s.a2.deviceId)),
        '-t',
        `$share/cmd/devices/${s.a2.deviceId}/commands/#`,
        '-v',
        '-d',
        '-C',
        '2',
      ]);
      await eventually(() => sub.output().includes('SUBACK'), 5000, 'SUBACK');
      const t = keep(await toolClient(s));
      await t.publishAsync(`devices/${s.a2.deviceId}/commands/a`, '1', { qos: 1 });
      await t.publishAsync(`devices/${s.a2.deviceId}/commands/b`, '2', { qos: 1 });
      expect(await sub.exited).toBe(0);
      expect(sub.lines.filter((l) => l.startsWith('devices/'))).toEqual([
        `devices/${s.a2.deviceId}/commands/a 1`,
        `devices/${s.a2.deviceId}/commands/b 2`,
      ]);
      t.end();
    });

    it('ok/revoking an MQTT 5 device drops its expiring session, queue and retained messages', async () => {
      const i = s.server.runtime.instance.id;
      const d = await enrolMqttDevice(s.server, s.fleetA);
      const p = await deviceClient(s, d, {
        protocolVersion: 5,
        clean: false,
        properties: { sessionExpiryInterval: 3600 },
      });
      await p.subscribeAsync(`devices/${d.deviceId}/commands/#`, { qos: 1 });
      await p.publishAsync(`devices/${d.deviceId}/state`, 'online', { retain: true, qos: 1 });
      await p.endAsync();
      const t = keep(await toolClient(s));
      await t.publishAsync(`devices/${d.deviceId}/commands/reboot`, 'now', { qos: 1 });
      const before = await s.server.runtime.hubs.broker.session(i, s.hubA, d.deviceId);
      expect(before).toMatchObject({
        connected: false,
        queued: 1,
        subscriptions: [`devices/${d.deviceId}/commands/#`],
        retainedByClient: [`devices/${d.deviceId}/state`],
      });
      await revokeMqttDevice(s.server, d);
      await eventually(
        async () =>
          (await s.server.runtime.hubs.broker.session(i, s.hubA, d.deviceId))?.queued === 0,
        5000,
        'session dropped',
      );
      expect(await s.server.runtime.hubs.broker.session(i, s.hubA, d.deviceId)).toEqual({
        connected: false,
        subscriptions: [],
        queued: 0,
        retainedByClient: [],
      });
      await expect(deviceClient(s, d, { protocolVersion: 5, clean: false })).rejects.toThrow(
        /not authorized/i,
      );
      const evicted = (await s.server.runtime.audit.recent(i, 50)).find(
        (e) => e.action === 'mqtt.client.evict' && e.target?.id === d.deviceId,
      );
      // The device was offline: nothing to cut, so no eviction entry; the refusal is logged.
      expect(evicted).toBeUndefined();
      await eventually(
        async () =>
          (await s.server.runtime.audit.recent(i, 50)).some(
            (e) =>
              e.action === 'mqtt.client.connect' &&
              e.result === 'denied' &&
              e.target?.type === 'certificate',
          ),
        5000,
        'refusal entry',
      );
      t.end();
    });

    it('ok/connects, disconnects and refusals reach the audit log, connects rate-limited', async () => {
      const i = s.server.runtime.instance.id;
      for (let n = 0; n < 3; n++) {
        const c = await deviceClient(s, s.b1, { protocolVersion: 5 });
        await c.endAsync();
      }
      await expect(
        deviceClient(s, s.b1, { protocolVersion: 5, clientId: s.a1.deviceId }),
      ).rejects.toThrow(/not authorized|identifier/i);
      let entries: Awaited<ReturnType<typeof s.server.runtime.audit.recent>> = [];
      await eventually(
        async () => {
          entries = (await s.server.runtime.audit.recent(i, 100)).filter(
            (e) => e.actor.id === s.b1.deviceId,
          );
          return entries.some((e) => e.result === 'denied');
        },
        5000,
        'audit entries',
      );
      // b1 connected four times (once in the test before): one entry per minute at most, so
      // one or, if the minute turned, two; the same for its disconnects.
      const count = (action: string) =>
        entries.filter((e) => e.action === action && e.result === 'ok').length;
      expect(count('mqtt.client.connect')).toBeGreaterThanOrEqual(1);
      expect(count('mqtt.client.connect')).toBeLessThanOrEqual(2);
      expect(count('mqtt.client.disconnect')).toBeGreaterThanOrEqual(1);
      expect(count('mqtt.client.disconnect')).toBeLessThanOrEqual(2);
      expect(
        entries.find((e) => e.action === 'mqtt.client.connect' && e.result === 'ok'),
      ).toMatchObject({
        target: { type: 'hub', id: s.hubB },
        details: { clientId: s.b1.deviceId, protocolVersion: 5 },
      });
      expect(entries.find((e) => e.result === 'denied')).toMatchObject({
        action: 'mqtt.client.connect',
        actor: { type: 'device', id: s.b1.deviceId },
        target: { type: 'hub', id: s.hubB },
        details: { reason: 'client-id-mismatch' },
      });
    });
  });
}
