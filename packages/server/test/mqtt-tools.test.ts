import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  closed,
  connectMqtt,
  createHubFleet,
  enrolMqttDevice,
  eventually,
  mosquittoRun,
  mosquittoSubscriber,
  tlsArgs,
  type TestMqttDevice,
} from '../src/test-helpers/test-mqtt.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

interface Created {
  tool: { id: string; name: string; clientId: string; keySource: string; certificateId: string };
  credentials: { clientId: string; certificate: string; privateKey: string | null };
  zip: string;
}

/** Writes a zip's files into a new directory; returns it and the file names. */
function unpack(zip: Buffer): { dir: string; files: Record<string, string> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-tool-zip-'));
  const files: Record<string, string> = {};
  for (const [name, data] of Object.entries(unzipSync(new Uint8Array(zip)))) {
    files[name] = strFromU8(data);
    writeFileSync(path.join(dir, name), data, { mode: 0o600 });
  }
  return { dir, files };
}

/** The mosquitto_sub command of the README, exactly as written there. */
function readmeCommand(readme: string): string {
  const m = /```sh\n(mosquitto_sub [^\n]+)\n```/.exec(readme);
  if (!m) throw new Error('no mosquitto_sub command in the README');
  return m[1]!;
}

for (const dialect of TEST_DIALECTS) {
  describe(`third-party tool credentials on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    let hubId: string;
    let device: TestMqttDevice;
    let caFile: string;

    beforeAll(async () => {
      server = await startTestServer(dialect);
      ({ admin, contributor } = await createTestUsers(server));
      const res = await server.request('POST', '/api/v1/hubs', {
        headers: admin.headers,
        body: { name: 'Workshop', type: 'mqtt' },
      });
      hubId = res.json<{ id: string }>().id;
      device = await enrolMqttDevice(server, await createHubFleet(server, hubId));
      caFile = path.join(device.dir, 'root.pem');
      writeFileSync(caFile, server.rootPem);
    });
    afterAll(async () => server?.close());

    const publishFromDevice = (payload: string) =>
      mosquittoRun('mosquitto_pub', [
        ...tlsArgs(server.mqttPort, caFile, device, device.deviceId),
        '-t',
        `devices/${device.deviceId}/telemetry`,
        '-m',
        payload,
      ]);

    it('ok/the zip holds CA, certificate, key, client ID and a README whose mosquitto_sub command works as written', async () => {
      const res = await server.request('POST', `/api/v1/hubs/${hubId}/tools?format=zip`, {
        headers: admin.headers,
        body: { name: 'Node-RED' },
      });
      expect(res.status, res.text).toBe(201);
      expect(res.headers['content-type']).toBe('application/zip');
      expect(res.headers['content-disposition']).toBe('attachment; filename="Node-RED.zip"');
      expect(res.headers['cache-control']).toBe('no-store');
      const { dir, files } = unpack(res.body);
      expect(Object.keys(files).sort()).toEqual(
        ['README.md', 'ca.pem', 'client-id.txt', 'client.crt', 'client.key'].sort(),
      );
      expect(files['ca.pem']).toBe(server.rootPem);
      const clientId = files['client-id.txt']!.trim();
      expect(clientId).toMatch(/^tool-node-red-[0-9a-f]{8}$/);
      expect(files['README.md']).toContain('Node-RED');
      expect(files['README.md']).toContain(`Client ID: \`${clientId}\``);
      // The key matches the certificate.
      const pub = (f: string, kind: 'x509' | 'pkey') =>
        spawnSync(
          'openssl',
          kind === 'x509' ? ['x509', '-in', f, '-noout', '-pubkey'] : ['pkey', '-in', f, '-pubout'],
        ).stdout.toString();
      expect(pub(path.join(dir, 'client.crt'), 'x509')).toBe(
        pub(path.join(dir, 'client.key'), 'pkey'),
      );

      const cmd = readmeCommand(files['README.md']!);
      expect(cmd).toContain(`-p ${server.mqttPort}`);
      const sub = mosquittoSubscriber({ shell: `${cmd} -C 1` }, { cwd: dir });
      let sent = 0;
      await eventually(
        async () => {
          if (sub.lines.length) return true;
          // Publish until the subscriber (connecting meanwhile) has one message.
          expect((await publishFromDevice(`reading ${++sent}`)).code).toBe(0);
          return sub.lines.length > 0;
        },
        8000,
        'the tool to receive a reading',
      );
      expect(await sub.exited).toBe(0);
      expect(sub.lines[0]).toMatch(
        new RegExp(`^devices/${device.deviceId}/telemetry reading \\d+$`),
      );

      // The platform kept no key: the zip downloaded later has none.
      const tools = (
        await server.request('GET', `/api/v1/hubs/${hubId}/tools`, { headers: contributor.headers })
      ).json<{ items: { id: string; clientId: string }[] }>();
      const tool = tools.items.find((t) => t.clientId === clientId)!;
      const again = await server.request(
        'GET',
        `/api/v1/hubs/${hubId}/tools/${tool.id}/credentials.zip`,
        { headers: admin.headers },
      );
      expect(again.status).toBe(200);
      const later = unpack(again.body).files;
      expect(Object.keys(later).sort()).toEqual(
        ['README.md', 'ca.pem', 'client-id.txt', 'client.crt'].sort(),
      );
      expect(later['README.md']).toContain('not included');
    });

    it('ok/a tool made from a CSR: the user keeps the key, the platform never sees it', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-tool-csr-'));
      const key = path.join(dir, 'mine.key');
      spawnSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
      const csr = spawnSync('openssl', [
        'req',
        '-new',
        '-key',
        key,
        '-subj',
        '/',
      ]).stdout.toString();
      const res = await server.request('POST', `/api/v1/hubs/${hubId}/tools`, {
        headers: admin.headers,
        body: { name: 'MQTT Explorer', csr },
      });
      expect(res.status, res.text).toBe(201);
      const made = res.json<Created>();
      expect(made.tool.keySource).toBe('csr');
      expect(made.credentials.privateKey).toBeNull();
      const files = unpack(Buffer.from(made.zip, 'base64')).files;
      expect(files['client.key']).toBeUndefined();
      const c = await connectMqtt(
        server.mqttPort,
        server.rootPem,
        {
          certPem: made.credentials.certificate,
          keyPem: spawnSync('cat', [key]).stdout.toString(),
        },
        { clientId: made.credentials.clientId },
      );
      await c.publishAsync(`devices/${device.deviceId}/commands/blink`, '3', { qos: 1 });
      // Tools may command devices but not speak for them.
      const gone = closed(c);
      c.publish(`devices/${device.deviceId}/telemetry`, 'forged');
      await gone;
    });

    it('fail/bad tool requests', async () => {
      const post = (body: unknown, headers = admin.headers, hub = hubId) =>
        server.request('POST', `/api/v1/hubs/${hub}/tools`, { headers, body });
      expect((await post({ name: 'Node-RED' })).json()).toMatchObject({
        type: expect.stringMatching(/name-taken$/),
      });
      expect((await post({ name: 'x', csr: 'not a csr' })).status).toBe(400);
      expect((await post({ name: '' })).status).toBe(400);
      expect((await post({ name: 'y' }, contributor.headers)).status).toBe(403);
      const aws = await server.request('POST', '/api/v1/hubs', {
        headers: admin.headers,
        body: {
          name: 'Cloud',
          type: 'azure-iot-central',
          settings: { appUrl: 'https://93.184.216.34', apiToken: 'tok' },
        },
      });
      expect(aws.status, aws.text).toBe(201);
      expect(
        (await post({ name: 'z' }, admin.headers, aws.json<{ id: string }>().id)).json(),
      ).toMatchObject({ type: expect.stringMatching(/no-tools$/) });
    });

    it('ok/removing a tool revokes its certificate and cuts its connection', async () => {
      const res = await server.request('POST', `/api/v1/hubs/${hubId}/tools`, {
        headers: admin.headers,
        body: { name: 'Temporary' },
      });
      const made = res.json<Created>();
      const cred = { certPem: made.credentials.certificate, keyPem: made.credentials.privateKey! };
      const c = await connectMqtt(server.mqttPort, server.rootPem, cred, {
        clientId: made.credentials.clientId,
      });
      const del = await server.request('DELETE', `/api/v1/hubs/${hubId}/tools/${made.tool.id}`, {
        headers: admin.headers,
      });
      expect(del.status).toBe(204);
      await closed(c, 5000);
      await expect(
        connectMqtt(server.mqttPort, server.rootPem, cred, { clientId: made.credentials.clientId }),
      ).rejects.toThrow(/not authorized/i);
      const cert = await server.runtime.pkiServices.deviceCerts.get(
        server.runtime.instance.id,
        made.tool.certificateId,
      );
      expect(cert.status).toBe('revoked');
      const list = (
        await server.request('GET', `/api/v1/hubs/${hubId}/tools`, { headers: admin.headers })
      ).json<{ items: { id: string }[] }>();
      expect(list.items.map((t) => t.id)).not.toContain(made.tool.id);
      const actions = (await server.runtime.audit.recent(server.runtime.instance.id, 10)).map(
        (e) => e.action,
      );
      expect(actions).toEqual(
        expect.arrayContaining([
          'hub.tool.create',
          'hub.tool.delete',
          'pki.device-certificate.revoke',
        ]),
      );
    });
  });
}
