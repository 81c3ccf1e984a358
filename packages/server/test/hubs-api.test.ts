import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInstanceRepo } from '../src/instances/instance-repo.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { testCtx } from '../src/test-helpers/test-fleet.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const ACCESS_KEY = 'AKIAIOSFODNN7EXAMPLE';

const awsHub = (over: Record<string, unknown> = {}) => ({
  name: 'Fleet on AWS',
  type: 'aws-iot-core',
  settings: {
    region: 'eu-west-1',
    // A public address literal: the sandbox has no DNS, and names are resolved and checked.
    endpoint: '93.184.216.34',
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
    ...over,
  },
});

interface HubView {
  id: string;
  name: string;
  type: string;
  settings: Record<string, unknown>;
  secrets: Record<string, { set: boolean }>;
}

const lookupEnv = { TRUSTLINK_LOG_LEVEL: process.env.TRUSTLINK_TEST_LOG_LEVEL ?? 'silent' };

for (const dialect of TEST_DIALECTS) {
  describe(`IoT hubs over the API on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    let awsId: string;
    let mqttId: string;

    beforeAll(async () => {
      server = await startTestServer(dialect, { env: lookupEnv });
      ({ admin, contributor } = await createTestUsers(server));
    });
    afterAll(async () => server?.close());

    const req = (method: string, url: string, who: TestPrincipal, body?: unknown) =>
      server.request(method, url, { headers: who.headers, body });

    it('ok/an administrator creates hubs; secrets come back obscured, never their values', async () => {
      const mqtt = await req('POST', '/api/v1/hubs', admin, { name: 'Local broker', type: 'mqtt' });
      expect(mqtt.status, mqtt.text).toBe(201);
      mqttId = mqtt.json<HubView>().id;
      expect(mqtt.json<HubView>().settings).toEqual({
        rules: {
          device: { publish: ['devices/{clientId}/#'], subscribe: ['devices/{clientId}/#'] },
          tool: { publish: ['devices/+/commands/#'], subscribe: ['devices/+/#'] },
        },
      });
      const aws = await req('POST', '/api/v1/hubs', admin, awsHub());
      expect(aws.status, aws.text).toBe(201);
      const view = aws.json<HubView>();
      awsId = view.id;
      expect(view.settings).toMatchObject({
        accessKeyId: '********',
        secretAccessKey: '********',
        port: 8883,
        customAuthentication: false,
      });
      expect(view.secrets).toEqual({ accessKeyId: { set: true }, secretAccessKey: { set: true } });
      for (const r of [
        aws,
        await req('GET', '/api/v1/hubs', admin),
        await req('GET', `/api/v1/hubs/${awsId}`, admin),
      ]) {
        expect(r.text).not.toContain(SECRET_KEY);
        expect(r.text).not.toContain(ACCESS_KEY);
      }
    });

    it('ok/secrets are sealed at rest, and the audit log names them without their values', async () => {
      const row = await server.runtime.db.kysely
        .selectFrom('hubs')
        .selectAll()
        .where('id', '=', awsId)
        .executeTakeFirstOrThrow();
      expect(Buffer.from(row.secrets).toString('latin1')).not.toContain(SECRET_KEY);
      expect(row.settings).not.toContain(SECRET_KEY);
      expect(await server.runtime.hubs.hubs.secretsOf(server.runtime.instance.id, awsId)).toEqual({
        accessKeyId: ACCESS_KEY,
        secretAccessKey: SECRET_KEY,
      });
      const entries = await server.runtime.audit.recent(server.runtime.instance.id, 20);
      const create = entries.find((e) => e.action === 'hub.create' && e.target?.id === awsId)!;
      expect(create.details).toMatchObject({ secretsSet: ['accessKeyId', 'secretAccessKey'] });
      expect(JSON.stringify(entries)).not.toContain(SECRET_KEY);
    });

    it('ok/a change that leaves a secret out (or sends it obscured) keeps it; a new value replaces it', async () => {
      const keep = await req('PUT', `/api/v1/hubs/${awsId}`, admin, {
        name: 'Fleet on AWS',
        type: 'aws-iot-core',
        settings: {
          region: 'eu-central-1',
          endpoint: '93.184.216.35',
          accessKeyId: '********',
        },
      });
      expect(keep.status, keep.text).toBe(200);
      expect(keep.json<HubView>().settings).toMatchObject({
        region: 'eu-central-1',
        secretAccessKey: '********',
      });
      const secrets = () => server.runtime.hubs.hubs.secretsOf(server.runtime.instance.id, awsId);
      expect(await secrets()).toEqual({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
      const change = await req(
        'PUT',
        `/api/v1/hubs/${awsId}`,
        admin,
        awsHub({ secretAccessKey: 'rotated-secret-value' }),
      );
      expect(change.status).toBe(200);
      expect(change.text).not.toContain('rotated-secret-value');
      expect((await secrets()).secretAccessKey).toBe('rotated-secret-value');
    });

    it('ok/contributors read hubs without secrets and get 403 on every change', async () => {
      const list = await req('GET', '/api/v1/hubs', contributor);
      expect(list.status).toBe(200);
      expect(
        list
          .json<{ items: HubView[] }>()
          .items.map((h) => h.name)
          .sort(),
      ).toEqual(['Fleet on AWS', 'Local broker']);
      expect(list.text).not.toContain('rotated-secret-value');
      expect((await req('GET', `/api/v1/hubs/${awsId}`, contributor)).status).toBe(200);
      expect((await req('GET', '/api/v1/hubs/status', contributor)).status).toBe(200);
      expect((await req('GET', `/api/v1/hubs/${mqttId}/tools`, contributor)).status).toBe(200);
      const denied = [
        await req('POST', '/api/v1/hubs', contributor, { name: 'x', type: 'mqtt' }),
        await req('PUT', `/api/v1/hubs/${mqttId}`, contributor, { name: 'x', type: 'mqtt' }),
        await req('DELETE', `/api/v1/hubs/${mqttId}`, contributor),
        await req('POST', `/api/v1/hubs/${mqttId}/tools`, contributor, { name: 't' }),
      ];
      for (const r of denied) {
        expect(r.status).toBe(403);
        expect(r.json()).toMatchObject({ type: expect.stringMatching(/administrator-required$/) });
      }
      expect(
        (await req('GET', '/api/v1/hubs', contributor)).json<{ items: unknown[] }>().items,
      ).toHaveLength(2);
    });

    const bad: [string, unknown, number, RegExp][] = [
      ['fail/unknown type', { name: 'k', type: 'kafka' }, 400, /validation/],
      [
        'fail/missing secret on create',
        awsHub({ secretAccessKey: undefined }),
        400,
        /validation-failed/,
      ],
      ['fail/bad region', awsHub({ region: 'mars' }), 400, /validation/],
      [
        'fail/endpoint with a scheme',
        awsHub({ endpoint: 'https://x.example.com' }),
        400,
        /validation/,
      ],
      [
        'fail/loopback endpoint (SSRF)',
        awsHub({ endpoint: '127.0.0.1' }),
        400,
        /outbound-address-refused/,
      ],
      [
        'fail/metadata address (SSRF)',
        awsHub({ endpoint: '169.254.169.254' }),
        400,
        /outbound-address-refused/,
      ],
      [
        'fail/private endpoint (SSRF)',
        awsHub({ endpoint: '10.0.0.1' }),
        400,
        /outbound-address-refused/,
      ],
      [
        'fail/unknown field',
        { name: 'u', type: 'mqtt', settings: { rules: {}, extra: 1 } },
        400,
        /validation/,
      ],
      [
        'fail/bad topic rule',
        {
          name: 'r',
          type: 'mqtt',
          settings: { rules: { device: { publish: ['a/#/b'], subscribe: [] } } },
        },
        400,
        /validation/,
      ],
      [
        'fail/mosquitto without a managed root',
        {
          name: 'm',
          type: 'mosquitto',
          settings: { host: '93.184.216.34', managedDirectory: 'm' },
        },
        400,
        /validation-failed/,
      ],
      [
        'fail/a certificate that does not parse',
        {
          name: 'c',
          type: 'azure-iot-hub',
          settings: {
            hostName: '93.184.216.34',
            sharedAccessPolicyName: 'p',
            sharedAccessKey: 'k',
            rootCertificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
          },
        },
        400,
        /validation/,
      ],
      ['fail/name taken', { name: 'Local broker', type: 'mqtt' }, 409, /name-taken/],
    ];
    for (const [name, body, status, type] of bad)
      it(name, async () => {
        const before = (await req('GET', '/api/v1/hubs', admin)).json<{ items: unknown[] }>().items
          .length;
        const res = await req('POST', '/api/v1/hubs', admin, body);
        expect(res.status, res.text).toBe(status);
        expect(res.json<{ type: string }>().type).toMatch(type);
        expect(
          (await req('GET', '/api/v1/hubs', admin)).json<{ items: unknown[] }>().items,
        ).toHaveLength(before);
      });

    it('fail/a hub cannot change its type', async () => {
      const res = await req('PUT', `/api/v1/hubs/${mqttId}`, admin, awsHub({}));
      expect(res.status).toBe(409);
      expect(res.json()).toMatchObject({ type: expect.stringMatching(/type-change$/) });
    });

    it('ok/policies point at real hubs only; a hub in use cannot be deleted', async () => {
      const policy = (hubId: string) => ({
        name: `policy for ${hubId.slice(0, 8)}`,
        connectionType: 'iot-hub',
        hubId,
        deviceCertificate: { lifetime: { value: 30, unit: 'days' } },
        issuingCertificate: { lifetime: { value: 1, unit: 'years' } },
      });
      const unknown = await req('POST', '/api/v1/policies', admin, policy(randomUUID()));
      expect(unknown.status).toBe(400);
      const p = await req('POST', '/api/v1/policies', admin, policy(mqttId));
      expect(p.status, p.text).toBe(201);
      const del = await req('DELETE', `/api/v1/hubs/${mqttId}`, admin);
      expect(del.status).toBe(409);
      expect(del.json()).toMatchObject({ type: expect.stringMatching(/in-use$/) });
      expect(
        (await req('DELETE', `/api/v1/policies/${p.json<{ id: string }>().id}`, admin)).status,
      ).toBe(204);
      expect((await req('DELETE', `/api/v1/hubs/${mqttId}`, admin)).status).toBe(204);
      expect((await req('GET', `/api/v1/hubs/${mqttId}`, admin)).status).toBe(404);
    });

    it('ok/another instance sees none of these hubs', async () => {
      const other = randomUUID();
      await createInstanceRepo(server.runtime.db.kysely).insert({
        id: other,
        name: `other-${other}`,
        createdAt: new Date().toISOString(),
        claimedAt: null,
      });
      await server.runtime.audit.ensureChain(other);
      const hubs = server.runtime.hubs.hubs;
      expect(await hubs.list(other)).toEqual([]);
      await expect(hubs.get(other, awsId)).rejects.toThrow(/not found/);
      await expect(hubs.secretsOf(other, awsId)).rejects.toThrow(/not found/);
      // The same name is free in the other instance.
      const made = await hubs.create(
        other,
        {
          name: 'Fleet on AWS',
          type: 'mqtt',
          settings: {
            rules: { device: { publish: [], subscribe: [] }, tool: { publish: [], subscribe: [] } },
          },
        },
        testCtx,
      );
      expect(made.name).toBe('Fleet on AWS');
      expect((await hubs.list(server.runtime.instance.id)).map((h) => h.id)).not.toContain(made.id);
    });
  });
}
