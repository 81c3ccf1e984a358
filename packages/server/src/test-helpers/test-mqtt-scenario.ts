import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import type { DialectName } from '../db/database.js';
import { createTestUsers, type TestPrincipal } from './test-auth.js';
import { createTestClock, type TestClock } from './test-clock.js';
import {
  connectMqtt,
  createHubFleet,
  enrolMqttDevice,
  type HubFleet,
  type TestMqttDevice,
} from './test-mqtt.js';
import { startTestServer, type TestServer } from './test-server.js';

export interface ToolCredentials {
  clientId: string;
  certificate: string;
  privateKey: string;
}

/** Two MQTT hubs with devices and a tool, on a server whose clock tests can move. */
export interface MqttScenario {
  server: TestServer;
  clock: TestClock;
  admin: TestPrincipal;
  port: number;
  /** The OEM root in a file, for mosquitto_pub/sub. */
  caFile: string;
  hubA: string;
  /** Hub B lets its devices read everything in its own topic space (`#`). */
  hubB: string;
  fleetA: HubFleet;
  a1: TestMqttDevice;
  a2: TestMqttDevice;
  b1: TestMqttDevice;
  /** A tool of hub A, with its generated key. */
  tool: ToolCredentials;
}

/** Starts the scenario; the broker re-checks connections every second. */
export async function startMqttScenario(dialect: DialectName): Promise<MqttScenario> {
  const clock = createTestClock();
  const server = await startTestServer(dialect, {
    now: clock.now,
    env: { TRUSTLINK_MQTT_RECONCILE_SECONDS: '1' },
  });
  const { admin } = await createTestUsers(server);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-mqtt-test-'));
  const caFile = path.join(dir, 'root.pem');
  writeFileSync(caFile, server.rootPem);
  const mk = async (body: unknown) => {
    const res = await server.request('POST', '/api/v1/hubs', { headers: admin.headers, body });
    if (res.status !== 201) throw new Error(`hub: ${res.status} ${res.text}`);
    return res.json<{ id: string }>().id;
  };
  const hubA = await mk({ name: 'Line A broker', type: 'mqtt' });
  const hubB = await mk({
    name: 'Line B broker',
    type: 'mqtt',
    settings: { rules: { device: { publish: ['devices/{clientId}/#'], subscribe: ['#'] } } },
  });
  const fleetA = await createHubFleet(server, hubA);
  const fleetB = await createHubFleet(server, hubB);
  const made = await server.request('POST', `/api/v1/hubs/${hubA}/tools`, {
    headers: admin.headers,
    body: { name: 'Node-RED' },
  });
  if (made.status !== 201) throw new Error(`tool: ${made.status} ${made.text}`);
  return {
    server,
    clock,
    admin,
    port: server.mqttPort,
    caFile,
    hubA,
    hubB,
    fleetA,
    a1: await enrolMqttDevice(server, fleetA),
    a2: await enrolMqttDevice(server, fleetA),
    b1: await enrolMqttDevice(server, fleetB),
    tool: made.json<{ credentials: ToolCredentials }>().credentials,
  };
}

/** An mqtt.js client of a device of the scenario (client ID = device ID unless overridden). */
export function deviceClient(
  s: MqttScenario,
  d: TestMqttDevice,
  opts: object = {},
): Promise<MqttClient> {
  return connectMqtt(s.port, s.server.rootPem, d, { clientId: d.deviceId, ...opts });
}

/** An mqtt.js client of the scenario's tool. */
export function toolClient(s: MqttScenario): Promise<MqttClient> {
  return connectMqtt(
    s.port,
    s.server.rootPem,
    { certPem: s.tool.certificate, keyPem: s.tool.privateKey },
    { clientId: s.tool.clientId },
  );
}
