import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hubBlockSchema } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { createTestClock, type TestClock } from '../src/test-helpers/test-clock.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { openssl } from '../src/test-helpers/test-openssl.js';
import { policyInput, testCtx } from '../src/test-helpers/test-fleet.js';
import {
  closed,
  collect,
  connectMqtt,
  createHubFleet,
  enrolMqttDevice,
  eventually,
  mosquittoRun,
  mosquittoSubscriber,
  revokeMqttDevice,
  subscribeCodes,
  tlsArgs,
  type HubFleet,
  type TestMqttDevice,
} from '../src/test-helpers/test-mqtt.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const DAY = 24 * 3600 * 1000;

interface ToolCredentials {
  clientId: string;
  certificate: string;
  privateKey: string;
}

for (const dialect of TEST_DIALECTS) {
  describe(`embedded MQTT broker with real clients on ${dialect}`, () => {
    let server: TestServer;
    let clock: TestClock;
    let admin: TestPrincipal;
    let port: number;
    let caFile: string;
    let hubA: string;
    let hubB: string;
    let fleetA: HubFleet;
    let a1: TestMqttDevice;
    let a2: TestMqttDevice;
    let b1: TestMqttDevice;
    let tool: ToolCredentials;
    const toolClient = () =>
      connectMqtt(
        port,
        server.rootPem,
        { certPem: tool.certificate, keyPem: tool.privateKey },
        { clientId: tool.clientId },
      );
    const i = () => server.runtime.instance.id;
    const cleanup: (() => void)[] = [];

    beforeAll(async () => {
      clock = createTestClock();
      server = await startTestServer(dialect, {
        now: clock.now,
        env: { TRUSTLINK_MQTT_RECONCILE_SECONDS: '1' },
      });
      ({ admin } = await createTestUsers(server));
      port = server.mqttPort;
      const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-mqtt-test-'));
      caFile = path.join(dir, 'root.pem');
      writeFileSync(caFile, server.rootPem);
      const mk = async (body: unknown) => {
        const res = await server.request('POST', '/api/v1/hubs', { headers: admin.headers, body });
        expect(res.status, res.text).toBe(201);
        return res.json<{ id: string }>().id;
      };
      hubA = await mk({ name: 'Line A broker', type: 'mqtt' });
      // Hub B lets its devices read everything in its own topic space.
      hubB = await mk({
        name: 'Line B broker',
        type: 'mqtt',
        settings: { rules: { device: { publish: ['devices/{clientId}/#'], subscribe: ['#'] } } },
      });
      fleetA = await createHubFleet(server, hubA);
      const fleetB = await createHubFleet(server, hubB);
      a1 = await enrolMqttDevice(server, fleetA);
      a2 = await enrolMqttDevice(server, fleetA);
      b1 = await enrolMqttDevice(server, fleetB);
      const made = await server.request('POST', `/api/v1/hubs/${hubA}/tools`, {
        headers: admin.headers,
        body: { name: 'Node-RED' },
      });
      expect(made.status, made.text).toBe(201);
      tool = made.json<{ credentials: ToolCredentials }>().credentials;
    });
    afterAll(async () => {
      for (const c of cleanup) c();
      await server?.close();
    });

    const mqttJs = (d: TestMqttDevice, opts: object = {}) =>
      connectMqtt(port, server.rootPem, d, { clientId: d.deviceId, ...opts });

    it('ok/mosquitto_sub with a device certificate receives a command a tool sends', async () => {
      const sub = mosquittoSubscriber([
        ...tlsArgs(port, caFile, a1, a1.deviceId),
        '-t',
        `devices/${a1.deviceId}/#`,
        '-v',
        '-d',
        '-C',
        '1',
      ]);
      cleanup.push(() => sub.proc.kill());
      await eventually(() => sub.output().includes('SUBACK'), 5000, 'SUBACK');
      const t = await toolClient();
      await t.publishAsync(`devices/${a1.deviceId}/commands/led`, 'on', { qos: 1 });
      await t.endAsync();
      expect(await sub.exited).toBe(0);
      expect(sub.lines).toContain(`devices/${a1.deviceId}/commands/led on`);
    });

    it('ok/mosquitto_pub with a device certificate publishes; mqtt.js devices talk to themselves', async () => {
      const t = await toolClient();
      const seen = collect(t);
      await t.subscribeAsync('devices/+/#', { qos: 1 });
      const pub = await mosquittoRun('mosquitto_pub', [
        ...tlsArgs(port, caFile, a1, a1.deviceId),
        '-t',
        `devices/${a1.deviceId}/telemetry`,
        '-m',
        'from mosquitto_pub',
        '-q',
        '1',
      ]);
      expect(pub.code, pub.out).toBe(0);
      await eventually(
        () => seen.some((m) => m.payload === 'from mosquitto_pub'),
        5000,
        'telemetry',
      );
      await t.endAsync();

      const c = await mqttJs(a2);
      const got = collect(c);
      const granted = await c.subscribeAsync(`devices/${a2.deviceId}/#`, { qos: 1 });
      expect(granted[0]!.qos).toBe(1);
      await c.publishAsync(`devices/${a2.deviceId}/telemetry`, 'from mqtt.js', { qos: 1 });
      await eventually(() => got.some((m) => m.payload === 'from mqtt.js'), 5000, 'own message');
      await c.endAsync();
    });

    it('fail/a client ID other than the device ID is refused', async () => {
      const r = await mosquittoRun('mosquitto_pub', [
        ...tlsArgs(port, caFile, a1, 'someone-else'),
        '-t',
        `devices/${a1.deviceId}/x`,
        '-m',
        'x',
      ]);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/identifier rejected/i);
      await expect(mqttJs(a1, { clientId: a2.deviceId })).rejects.toThrow(/identifier rejected/i);
    });

    it("fail/a device cannot subscribe to or publish on another device's topics", async () => {
      const victim = await mqttJs(a2);
      const seen = collect(victim);
      await victim.subscribeAsync(`devices/${a2.deviceId}/#`);
      const c = await mqttJs(a1);
      const codes = await subscribeCodes(c, [
        `devices/${a2.deviceId}/#`,
        'devices/+/#',
        '#',
        `devices/${a1.deviceId}/#`,
      ]);
      expect(codes).toEqual([128, 128, 128, 0]);
      // MQTT 3.1.1 has no negative PUBACK: a forbidden publish closes the connection.
      const gone = closed(c);
      c.publish(`devices/${a2.deviceId}/commands/x`, 'forged');
      await gone;
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toEqual([]);
      await victim.endAsync();
    });

    it('fail/hubs are separate topic spaces: a device of hub B reading # sees nothing of hub A', async () => {
      const watcher = await mqttJs(b1);
      const seen = collect(watcher);
      expect((await watcher.subscribeAsync('#'))[0]!.qos).toBe(0);
      const c = await mqttJs(a1);
      await c.publishAsync(`devices/${a1.deviceId}/telemetry`, 'hub A only', { qos: 1 });
      await c.endAsync();
      await watcher.publishAsync(`devices/${b1.deviceId}/telemetry`, 'hub B', { qos: 1 });
      await eventually(() => seen.some((m) => m.payload === 'hub B'), 5000, 'own hub message');
      expect(seen.map((m) => m.payload)).toEqual(['hub B']);
      await watcher.endAsync();
    });

    it('fail/$share subscriptions obey the same rules (and aedes 1.x serves none)', async () => {
      const c = await mqttJs(a1);
      const codes = await subscribeCodes(c, [
        `$share/g/devices/${a2.deviceId}/#`,
        '$share/g/#',
        `$share/g/devices/${a1.deviceId}/#`,
        `devices/${a1.deviceId}/#`,
      ]);
      expect(codes).toEqual([128, 128, 128, 0]);
      await c.endAsync();
    });

    it('fail/MQTT 5 clients are refused: aedes 1.x speaks MQTT 3.1 and 3.1.1 only', async () => {
      await expect(mqttJs(a1, { protocolVersion: 5 })).rejects.toThrow(/protocol version/i);
      const r = await mosquittoRun('mosquitto_pub', [
        '-h',
        'localhost',
        '-p',
        String(port),
        '--cafile',
        caFile,
        '--cert',
        a1.certFile,
        '--key',
        a1.keyFile,
        '-i',
        a1.deviceId,
        '-V',
        'mqttv5',
        '-t',
        `devices/${a1.deviceId}/x`,
        '-m',
        'x',
      ]);
      expect(r.code).not.toBe(0);
      // MQTT 3.1 allows client IDs of at most 23 characters; a device ID has 64.
      await expect(mqttJs(a1, { protocolVersion: 3 })).rejects.toThrow(/identifier rejected/i);
    });

    it('fail/an expired certificate is refused at the TLS handshake', async () => {
      clock.advance(-2 * DAY);
      const old = await enrolMqttDevice(server, fleetA, { lifetimeSeconds: 3600 });
      clock.advance(2 * DAY);
      const r = await mosquittoRun('mosquitto_pub', [
        ...tlsArgs(port, caFile, old, old.deviceId),
        '-t',
        `devices/${old.deviceId}/x`,
        '-m',
        'x',
      ]);
      expect(r.code).not.toBe(0);
      await expect(mqttJs(old)).rejects.toThrow();
      // The certificate is refused for its age alone: openssl finds it expired, and a device
      // issued a moment later by the same CA connects.
      expect(openssl(['x509', '-in', old.certFile, '-noout', '-checkend', '0']).status).not.toBe(0);
      const fresh = await enrolMqttDevice(server, fleetA, { lifetimeSeconds: 3600 });
      await (await mqttJs(fresh)).endAsync();
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

    it('ok/the enrolment hub block tells a device how to reach its hub, and it works as given', async () => {
      const d = await enrolMqttDevice(server, fleetA);
      const policy = await server.runtime.fleet.policies.get(i(), fleetA.policyId);
      const block = await server.runtime.hubs.hubConnectionFor(i(), policy, {
        deviceId: d.deviceId,
      });
      expect(hubBlockSchema.parse(block)).toEqual({
        type: 'mqtt',
        endpoint: 'localhost',
        port,
        clientId: d.deviceId,
        topics: { publish: [`devices/${d.deviceId}/#`], subscribe: [`devices/${d.deviceId}/#`] },
        caCertificates: [expect.any(String)],
        extra: {},
      });
      const ca = Buffer.from(block!.caCertificates[0]!, 'base64url').toString('base64');
      const blockCa = path.join(d.dir, 'hub-ca.pem');
      writeFileSync(
        blockCa,
        `-----BEGIN CERTIFICATE-----\n${ca.replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`,
      );
      const r = await mosquittoRun('mosquitto_pub', [
        '-h',
        block!.endpoint,
        '-p',
        String(block!.port),
        '--cafile',
        blockCa,
        '--cert',
        d.certFile,
        '--key',
        d.keyFile,
        '-i',
        block!.clientId,
        '-t',
        block!.topics.publish[0]!.replace('#', 'hello'),
        '-m',
        'x',
      ]);
      expect(r.code, r.out).toBe(0);
      expect(
        await server.runtime.hubs.hubConnectionFor(i(), { hubId: null }, { deviceId: d.deviceId }),
      ).toBeUndefined();
    });

    it('ok/rules are configurable per hub; connections are re-judged when they change', async () => {
      const c = await mqttJs(a1);
      const res = await server.request('PUT', `/api/v1/hubs/${hubA}`, {
        headers: admin.headers,
        body: {
          name: 'Line A broker',
          type: 'mqtt',
          settings: {
            rules: {
              device: { publish: ['telemetry/{clientId}'], subscribe: ['commands/{clientId}/+'] },
            },
          },
        },
      });
      expect(res.status, res.text).toBe(200);
      await closed(c, 5000);
      const again = await mqttJs(a1);
      const codes = await subscribeCodes(again, [
        `commands/${a1.deviceId}/reboot`,
        `devices/${a1.deviceId}/#`,
      ]);
      expect(codes).toEqual([0, 128]);
      await again.publishAsync(`telemetry/${a1.deviceId}`, 'ok', { qos: 1 });
      const gone = closed(again);
      again.publish(`devices/${a1.deviceId}/x`, 'no longer allowed');
      await gone;
    });

    it('ok/hub status counts the reachable hubs', async () => {
      const res = await server.request('GET', '/api/v1/hubs/status', { headers: admin.headers });
      expect(res.status).toBe(200);
      const s = res.json<{
        reachable: number;
        total: number;
        hubs: { type: string; ok: boolean; detail: string }[];
      }>();
      expect(s).toMatchObject({ reachable: 2, total: 2 });
      expect(s.hubs.every((h) => h.type === 'mqtt' && h.ok && /listening/.test(h.detail))).toBe(
        true,
      );
    });
  });
}
