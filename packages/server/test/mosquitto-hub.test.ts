import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serialOf } from '../src/pki/cert-fns.js';
import { pemToDer } from '../src/pki/cert-fns.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
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
  type TestMqttDevice,
} from '../src/test-helpers/test-mqtt.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';
import {
  brokerCertificates,
  freePort,
  startMosquitto,
} from '../src/test-helpers/test-mosquitto.js';

for (const dialect of TEST_DIALECTS) {
  describe(`managed Mosquitto hub against a real Mosquitto on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let root: string;
    let dir: string;
    let port: number;
    let brokerCa: string;
    let brokerCaFile: string;
    let mosquitto: Awaited<ReturnType<typeof startMosquitto>> | undefined;
    let hubId: string;
    let d1: TestMqttDevice;
    let d2: TestMqttDevice;
    let stranger: TestMqttDevice;
    let tool: { clientId: string; certPem: string; keyPem: string; dir: string; readme: string };
    const i = () => server.runtime.instance.id;
    const file = (n: string) => readFileSync(path.join(dir, n), 'utf8');

    /** Connects as a device or tool to the real Mosquitto. */
    const connect = (cred: { certPem: string; keyPem: string }, clientId: string) =>
      connectMqtt(port, brokerCa, cred, { clientId, host: '127.0.0.1', servername: 'localhost' });

    beforeAll(async () => {
      root = mkdtempSync(path.join(os.tmpdir(), 'trustlink-mosquitto-'));
      dir = path.join(root, 'plant-broker');
      port = await freePort();
      const certs = brokerCertificates(root);
      brokerCa = certs.caPem;
      brokerCaFile = path.join(root, 'broker-ca.pem');
      server = await startTestServer(dialect, {
        env: {
          TRUSTLINK_MOSQUITTO_MANAGED_ROOT: root,
          TRUSTLINK_OUTBOUND_ALLOW_LIST: '127.0.0.1',
          TRUSTLINK_MQTT_RECONCILE_SECONDS: '3600',
        },
      });
      ({ admin } = await createTestUsers(server));
      const res = await server.request('POST', '/api/v1/hubs', {
        headers: admin.headers,
        body: {
          name: 'Plant Mosquitto',
          type: 'mosquitto',
          settings: {
            host: '127.0.0.1',
            port,
            caCertificate: brokerCa,
            managedDirectory: 'plant-broker',
          },
        },
      });
      expect(res.status, res.text).toBe(201);
      hubId = res.json<{ id: string }>().id;
      // The hub's outbox entry writes the files the broker's configuration names.
      await server.runtime.outboxWorker.runOnce();
      expect(existsSync(path.join(dir, 'trustlink.acl'))).toBe(true);

      mosquitto = await startMosquitto({ port, managedDir: dir, server: certs, confDir: root });

      const fleet = await createHubFleet(server, hubId);
      d1 = await enrolMqttDevice(server, fleet);
      d2 = await enrolMqttDevice(server, fleet);
      const embedded = await server.request('POST', '/api/v1/hubs', {
        headers: admin.headers,
        body: { name: 'Other hub', type: 'mqtt' },
      });
      stranger = await enrolMqttDevice(
        server,
        await createHubFleet(server, embedded.json<{ id: string }>().id),
      );
      // What the enrolment service publishes after each enrolment.
      for (const d of [d1, d2, stranger])
        server.runtime.deviceEvents.emit({
          type: 'enrolled',
          instanceId: i(),
          deviceId: d.deviceId,
          batchId: fleet.batchId,
        });
      await eventually(
        () =>
          file('trustlink.acl').includes(d1.deviceId) &&
          file('trustlink.acl').includes(d2.deviceId),
        5000,
        'devices in the ACL',
      );

      const made = await server.request('POST', `/api/v1/hubs/${hubId}/tools?format=zip`, {
        headers: admin.headers,
        body: { name: 'Dashboard' },
      });
      expect(made.status, made.text).toBe(201);
      const toolDir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-mosq-tool-'));
      const files: Record<string, string> = {};
      for (const [name, data] of Object.entries(unzipSync(new Uint8Array(made.body)))) {
        files[name] = strFromU8(data);
        writeFileSync(path.join(toolDir, name), data, { mode: 0o600 });
      }
      tool = {
        clientId: files['client-id.txt']!.trim(),
        certPem: files['client.crt']!,
        keyPem: files['client.key']!,
        dir: toolDir,
        readme: files['README.md']!,
      };
      writeFileSync(brokerCaFile, brokerCa);
      await server.runtime.outboxWorker.runOnce();
      await eventually(
        () => file('trustlink.acl').includes('# tool Dashboard'),
        5000,
        'tool in the ACL',
      );
      await new Promise((r) => setTimeout(r, 300)); // the broker reloads on SIGHUP in its loop
    });
    afterAll(async () => {
      await mosquitto?.stop();
      await server?.close();
    });

    it('ok/the broker files: the instance CAs, their CRLs and an ACL made from the hub rules', async () => {
      const cas = await server.runtime.pkiServices.caRepo.list(i());
      const bundle = file('trustlink-ca.pem');
      const trusted = cas.filter((c) => c.kind !== 'tls');
      expect(bundle.match(/BEGIN CERTIFICATE/g)).toHaveLength(trusted.length);
      expect(file('trustlink-crl.pem').match(/BEGIN X509 CRL/g)).toHaveLength(trusted.length);
      const acl = file('trustlink.acl');
      expect(acl).toContain(
        `user ${d1.deviceId}\ntopic write devices/${d1.deviceId}/#\ntopic read devices/${d1.deviceId}/#`,
      );
      expect(acl).toContain('topic read devices/+/#');
      expect(acl).not.toContain(stranger.deviceId);
      const block = await server.runtime.hubs.hubConnectionFor(
        i(),
        { hubId },
        { deviceId: d1.deviceId },
      );
      expect(block).toMatchObject({
        type: 'mosquitto',
        endpoint: '127.0.0.1',
        port,
        clientId: d1.deviceId,
      });
      expect(Buffer.from(block!.caCertificates[0]!, 'base64url')).toEqual(pemToDer(brokerCa));
    });

    it("ok/a device publishes with mosquitto_pub and the tool's README command receives it", async () => {
      const cmd = /```sh\n(mosquitto_sub [^\n]+)\n```/.exec(tool.readme)![1]!;
      expect(cmd).toContain(`-h 127.0.0.1 -p ${port} --cafile ca.pem`);
      const sub = mosquittoSubscriber({ shell: `${cmd} -C 1` }, { cwd: tool.dir });
      await eventually(
        async () => {
          if (sub.lines.length) return true;
          const r = await mosquittoRun('mosquitto_pub', [
            '-h',
            'localhost',
            '-p',
            String(port),
            '--cafile',
            brokerCaFile,
            '--cert',
            d1.certFile,
            '--key',
            d1.keyFile,
            '-i',
            d1.deviceId,
            '-t',
            `devices/${d1.deviceId}/telemetry`,
            '-m',
            '21.5',
          ]);
          expect(r.code, r.out).toBe(0);
          return sub.lines.length > 0;
        },
        8000,
        `the tool to receive (${sub.output()} ${mosquitto!.log()})`,
      );
      expect(await sub.exited).toBe(0);
      expect(sub.lines[0]).toBe(`devices/${d1.deviceId}/telemetry 21.5`);
    });

    it("fail/a device reads nothing of another device's topics and cannot write them; a device of another hub can do neither", async () => {
      // Mosquitto's acl_file grants every SUBSCRIBE and checks read access on each delivery.
      const t = await connect(tool, tool.clientId);
      const toolSeen = collect(t);
      await t.subscribeAsync('devices/+/#');
      const c = await connect(d1, d1.deviceId);
      const d1Seen = collect(c);
      await c.subscribeAsync([`devices/${d2.deviceId}/#`, '#']);
      await c.publishAsync(`devices/${d2.deviceId}/commands/x`, 'forged', { qos: 1 });
      const s = await connect(stranger, stranger.deviceId);
      const strangerSeen = collect(s);
      await s.subscribeAsync('#');
      await s.publishAsync(`devices/${stranger.deviceId}/telemetry`, 'intruder', { qos: 1 });
      const other = await connect(d2, d2.deviceId);
      await other.publishAsync(`devices/${d2.deviceId}/telemetry`, 'd2 private', { qos: 1 });
      await other.endAsync();
      await eventually(
        () => toolSeen.some((m) => m.payload === 'd2 private'),
        5000,
        'the tool to see d2',
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(toolSeen.map((m) => m.payload)).toEqual(['d2 private']);
      expect(d1Seen).toEqual([]);
      expect(strangerSeen).toEqual([]);
      await Promise.all([c.endAsync(), s.endAsync(), t.endAsync()]);
    });

    it('ok/revocation: the CRL lists the certificate, the live session is taken over, the reconnect is refused, retained messages are cleared', async () => {
      const c1 = await connect(d1, d1.deviceId);
      await c1.publishAsync(`devices/${d1.deviceId}/state`, 'up', { retain: true, qos: 1 });
      await c1.endAsync();
      const live = await connect(d2, d2.deviceId);
      await live.publishAsync(`devices/${d2.deviceId}/state`, 'up', { retain: true, qos: 1 });
      await live.subscribeAsync(`devices/${d2.deviceId}/commands/#`);

      await revokeMqttDevice(server, d2);
      await server.runtime.outboxWorker.runOnce();
      const entry = (await server.runtime.outbox.forSubject(i(), `device:${d2.deviceId}`))[0]!;
      expect(entry).toMatchObject({ topic: 'hub.device-revoked', status: 'done' });

      await closed(live, 5000);
      const serial = serialOf(pemToDer(d2.certPem)!).toUpperCase();
      const crlText = (
        file('trustlink-crl.pem').match(
          /-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----\n/g,
        ) ?? []
      )
        .map((pem) =>
          spawnSync('openssl', ['crl', '-noout', '-text'], { input: pem }).stdout.toString(),
        )
        .join('');
      expect(crlText.replace(/:/g, '')).toContain(serial);
      expect(file('trustlink.acl')).not.toContain(d2.deviceId);
      await expect(connect(d2, d2.deviceId)).rejects.toThrow();
      const r = await mosquittoRun('mosquitto_pub', [
        '-h',
        'localhost',
        '-p',
        String(port),
        '--cafile',
        brokerCaFile,
        '--cert',
        d2.certFile,
        '--key',
        d2.keyFile,
        '-i',
        d2.deviceId,
        '-t',
        `devices/${d2.deviceId}/x`,
        '-m',
        'x',
      ]);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/revoked|connection was lost|protocol error/i);

      const t = await connect(tool, tool.clientId);
      const seen = collect(t);
      await t.subscribeAsync('devices/+/state');
      await eventually(() => seen.length > 0, 5000, 'retained state');
      await new Promise((res) => setTimeout(res, 300));
      expect(seen.map((m) => m.topic)).toEqual([`devices/${d1.deviceId}/state`]);
      await t.endAsync();
    });

    it('ok/hub status: the broker answers a TLS handshake, and is counted out when it stops', async () => {
      const get = async () =>
        (await server.request('GET', '/api/v1/hubs/status', { headers: admin.headers })).json<{
          reachable: number;
          total: number;
          hubs: { id: string; ok: boolean; detail: string }[];
        }>();
      const up = await get();
      expect(up).toMatchObject({ reachable: 2, total: 2 });
      expect(up.hubs.find((h) => h.id === hubId)).toMatchObject({
        ok: true,
        detail: expect.stringMatching(/TLS handshake/),
      });
      await mosquitto!.stop();
      mosquitto = undefined;
      server.runtime.hubs.status.invalidate(i());
      const down = await get();
      expect(down).toMatchObject({ reachable: 1, total: 2 });
      expect(down.hubs.find((h) => h.id === hubId)).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/ECONNREFUSED/),
      });
    });
  });
}
