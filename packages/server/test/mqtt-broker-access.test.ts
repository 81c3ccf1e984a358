import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { hubBlockSchema } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestPrincipal } from '../src/test-helpers/test-auth.js';
import type { TestClock } from '../src/test-helpers/test-clock.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  deviceClient,
  startMqttScenario,
  toolClient as scenarioTool,
  type MqttScenario,
} from '../src/test-helpers/test-mqtt-scenario.js';
import type { TestServer } from '../src/test-helpers/test-server.js';
import { openssl } from '../src/test-helpers/test-openssl.js';
import {
  closed,
  collect,
  enrolMqttDevice,
  eventually,
  mosquittoRun,
  mosquittoSubscriber,
  subscribeCodes,
  tlsArgs,
  type HubFleet,
  type TestMqttDevice,
} from '../src/test-helpers/test-mqtt.js';

const DAY = 24 * 3600 * 1000;

for (const dialect of TEST_DIALECTS) {
  describe(`embedded MQTT broker with real clients: connections and access on ${dialect}`, () => {
    let s: MqttScenario;
    let server: TestServer;
    let clock: TestClock;
    let admin: TestPrincipal;
    let port: number;
    let caFile: string;
    let hubA: string;
    let fleetA: HubFleet;
    let a1: TestMqttDevice;
    let a2: TestMqttDevice;
    let b1: TestMqttDevice;
    const i = () => server.runtime.instance.id;
    const cleanup: (() => void)[] = [];
    const mqttJs = (d: TestMqttDevice, opts: object = {}) => deviceClient(s, d, opts);
    const toolClient = () => scenarioTool(s);

    beforeAll(async () => {
      s = await startMqttScenario(dialect);
      ({ server, clock, admin, port, caFile, hubA, fleetA, a1, a2, b1 } = s);
    });
    afterAll(async () => {
      for (const c of cleanup) c();
      await server?.close();
    });

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

    it('fail/$share subscriptions of 3.1.1 clients obey the same rules', async () => {
      const c = await mqttJs(a1);
      const codes = await subscribeCodes(c, [
        `$share/g/devices/${a2.deviceId}/#`,
        '$share/g/#',
        `$share/g/devices/${a1.deviceId}/#`,
        `devices/${a1.deviceId}/#`,
      ]);
      // The shared filter repeating a plain one of the same SUBSCRIBE is refused too.
      expect(codes).toEqual([128, 128, 128, 0]);
      expect(await subscribeCodes(c, [`$share/g/devices/${a1.deviceId}/x`])).toEqual([0]);
      await c.endAsync();
    });

    it('fail/MQTT 3.1 clients are refused: a device ID is longer than 3.1 allows', async () => {
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
