import { createHash, X509Certificate } from 'node:crypto';
import type { EnrolResponse } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCertificateId } from '../src/hubs/aws/aws-iot-fns.js';
import { IOT_CENTRAL_API_VERSION } from '../src/hubs/azure/azure-iot-central-connector.js';
import { IOT_HUB_API_VERSION } from '../src/hubs/azure/azure-iot-hub-connector.js';
import { AMAZON_ROOT_CA_1 } from '../src/hubs/cloud/cloud-roots.js';
import { backoffMs } from '../src/outbox/outbox-worker.js';
import { pemToDer } from '../src/pki/cert-fns.js';
import { toPem } from '../src/pki/certificate-builder.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { createTestClock, type TestClock } from '../src/test-helpers/test-clock.js';
import {
  fakeAwsIot,
  fakeAzureIotCentral,
  fakeAzureIotHub,
  type FakeEndpoint,
} from '../src/test-helpers/test-cloud-hubs.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { eventually } from '../src/test-helpers/test-mqtt.js';
import {
  devicePost,
  enrolBody,
  register,
  testDevice,
  tlsAs,
  type TestDevice,
} from '../src/test-helpers/test-devices.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const HOUR = 3600_000;
const AWS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  region: 'eu-west-1',
};
const AZURE_KEY = Buffer.from('an IoT hub shared access key....').toString('base64');
const CENTRAL_TOKEN = 'SharedAccessSignature sr=app&sig=abc%3D&skn=trustlink&se=1900000000';
const sha256Hex = (der: Buffer) => createHash('sha256').update(der).digest('hex').toUpperCase();

interface DeviceView {
  state: string;
  hubSync: { topic: string; status: string; lastError: string | null }[];
}

for (const dialect of TEST_DIALECTS) {
  describe(`cloud hubs on ${dialect}`, () => {
    let server: TestServer;
    let clock: TestClock;
    let admin: TestPrincipal;
    const aws = fakeAwsIot(AWS);
    const azure = fakeAzureIotHub({
      hostName: 'localhost',
      policyName: 'registryReadWrite',
      key: AZURE_KEY,
      apiVersion: IOT_HUB_API_VERSION,
    });
    const central = fakeAzureIotCentral({
      token: CENTRAL_TOKEN,
      apiVersion: IOT_CENTRAL_API_VERSION,
    });
    const hubIds: Record<'aws' | 'azure' | 'central', string> = { aws: '', azure: '', central: '' };
    const batches: Record<'aws' | 'azure' | 'central', string> = {
      aws: '',
      azure: '',
      central: '',
    };
    const devices: Record<'aws' | 'azure' | 'central', TestDevice | undefined> = {
      aws: undefined,
      azure: undefined,
      central: undefined,
    };

    const i = () => server.runtime.instance.id;
    const req = (method: string, url: string, body?: unknown) =>
      server.request(method, url, { headers: admin.headers, body });
    /** Runs the outbox until nothing is due. */
    const drain = async () => {
      for (let n = 0; n < 20 && (await server.runtime.outboxWorker.runOnce()) > 0; n++);
    };
    const detail = async (id: string) =>
      (await req('GET', `/api/v1/devices/${id}`)).json<DeviceView>();
    const certsOf = async (id: string) =>
      (
        await server.runtime.pkiServices.deviceCerts.list(i(), {
          deviceId: id,
          limit: 10,
          offset: 0,
        })
      ).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const enrol = (kind: keyof typeof batches) => enrolIn(batches[kind]);
    const enrolIn = async (batchId: string) => {
      const d = await testDevice();
      await register(server, admin, batchId, d.deviceId);
      const r = await devicePost(server, '/device/v1/enrol', enrolBody(d), tlsAs(d));
      expect(r.status, r.text).toBe(200);
      return { d, answer: r.json<EnrolResponse>() };
    };
    const policyFor = async (
      name: string,
      hubId: string,
      issuing = { value: 5, unit: 'years' },
    ) => {
      const p = await req('POST', '/api/v1/policies', {
        name,
        connectionType: 'iot-hub',
        hubId,
        deviceCertificate: {
          lifetime: { value: 3, unit: 'hours' },
          renewGracePeriod: { value: 1, unit: 'hours' },
          autoRenew: true,
        },
        issuingCertificate: { lifetime: issuing },
      });
      expect(p.status, p.text).toBe(201);
      const b = await req('POST', '/api/v1/batches', {
        name,
        policyId: p.json<{ id: string }>().id,
      });
      expect(b.status, b.text).toBe(201);
      return b.json<{ id: string }>().id;
    };
    /** The status of each of the three hubs, from one fresh status request. */
    const hubStatuses = async () => {
      server.runtime.hubs.status.invalidate(i());
      const s = await req('GET', '/api/v1/hubs/status');
      expect(s.status, s.text).toBe(200);
      const all = s.json<{ hubs: { id: string; ok: boolean; detail: string }[] }>().hubs;
      return Object.values(hubIds).map((id) => all.find((h) => h.id === id)!);
    };

    beforeAll(async () => {
      for (const f of [aws, azure, central] as FakeEndpoint[]) await f.start();
      clock = createTestClock();
      server = await startTestServer(dialect, {
        now: clock.now,
        env: { TRUSTLINK_OUTBOUND_ALLOW_LIST: '127.0.0.1' },
      });
      // The test runs the outbox itself, step by step.
      await server.runtime.outboxWorker.stop();
      ({ admin } = await createTestUsers(server));
    });
    afterAll(async () => {
      await server?.close();
      for (const f of [aws, azure, central] as FakeEndpoint[]) await f.stop();
    });

    it('ok/the three hub types: vendor roots prefilled, secrets obscured, status from a signed call', async () => {
      const a = await req('POST', '/api/v1/hubs', {
        name: 'AWS',
        type: 'aws-iot-core',
        settings: {
          region: AWS.region,
          endpoint: '127.0.0.1',
          accessKeyId: AWS.accessKeyId,
          secretAccessKey: AWS.secretAccessKey,
          apiEndpoint: aws.url(),
          apiCaCertificate: aws.caPem,
        },
      });
      expect(a.status, a.text).toBe(201);
      const view = a.json<{ id: string; settings: Record<string, unknown> }>();
      expect(view.settings).toMatchObject({
        secretAccessKey: '********',
        registration: 'per-device',
        rootCertificate: AMAZON_ROOT_CA_1,
      });
      expect(String(view.settings.policyDocument)).toContain('{{deviceId}}');
      expect(a.text).not.toContain(AWS.secretAccessKey);
      hubIds.aws = view.id;

      const z = await req('POST', '/api/v1/hubs', {
        name: 'Azure',
        type: 'azure-iot-hub',
        settings: {
          hostName: 'localhost',
          sharedAccessPolicyName: 'registryReadWrite',
          sharedAccessKey: AZURE_KEY,
          apiEndpoint: azure.url(),
          apiCaCertificate: azure.caPem,
        },
      });
      expect(z.status, z.text).toBe(201);
      expect(z.text).not.toContain(AZURE_KEY);
      expect(
        String(z.json<{ settings: { rootCertificate: string } }>().settings.rootCertificate),
      ).toMatch(/(BEGIN CERTIFICATE[\s\S]+){2}/);
      hubIds.azure = z.json<{ id: string }>().id;

      const c = await req('POST', '/api/v1/hubs', {
        name: 'Central',
        type: 'azure-iot-central',
        settings: {
          appUrl: central.url(),
          apiToken: CENTRAL_TOKEN,
          idScope: '0ne00A1B2C3',
          apiCaCertificate: central.caPem,
        },
      });
      expect(c.status, c.text).toBe(201);
      expect(c.text).not.toContain(CENTRAL_TOKEN);
      hubIds.central = c.json<{ id: string }>().id;

      const statuses = await hubStatuses();
      for (const st of statuses) expect(st, st.detail).toMatchObject({ ok: true });
      // The account's data endpoint differs from the one configured: the status says so.
      expect(statuses[0]!.detail).toContain(
        `the account's data endpoint is a1b2c3-ats.iot.${AWS.region}.amazonaws.com, not 127.0.0.1`,
      );
      expect(aws.names()).toEqual(['GET /endpoint']);
      expect(azure.names()).toEqual(['GET /statistics/service']);
      expect(central.names()).toEqual(['GET /api/roles']);
      expect([...aws.refused, ...azure.refused, ...central.refused]).toEqual([]);

      const defaults = await req('GET', '/api/v1/hubs/defaults');
      expect(defaults.status, defaults.text).toBe(200);
      expect(defaults.json()).toMatchObject({
        'aws-iot-core': { rootCertificate: AMAZON_ROOT_CA_1, registration: 'per-device' },
      });

      batches.aws = await policyFor('On AWS', hubIds.aws);
      batches.azure = await policyFor('On Azure', hubIds.azure);
      batches.central = await policyFor('On Central', hubIds.central);
    });

    it('ok/enrolment: the answer says where to connect; the outbox makes exactly the calls, in order', async () => {
      const from = {
        aws: aws.calls.length,
        azure: azure.calls.length,
        central: central.calls.length,
      };
      const a = await enrol('aws');
      const z = await enrol('azure');
      const c = await enrol('central');
      devices.aws = a.d;
      devices.azure = z.d;
      devices.central = c.d;
      expect(a.answer.hub).toMatchObject({
        type: 'aws-iot-core',
        endpoint: '127.0.0.1',
        port: 8883,
        clientId: a.d.deviceId,
        extra: { region: AWS.region, thingName: a.d.deviceId },
      });
      expect(a.answer.hub?.caCertificates).toEqual([
        pemToDer(AMAZON_ROOT_CA_1)!.toString('base64url'),
      ]);
      expect(z.answer.hub).toMatchObject({
        type: 'azure-iot-hub',
        endpoint: 'localhost',
        port: 8883,
      });
      expect(z.answer.hub?.caCertificates).toHaveLength(2);
      expect(c.answer.hub).toMatchObject({
        type: 'azure-iot-central',
        endpoint: 'global.azure-devices-provisioning.net',
        extra: { idScope: '0ne00A1B2C3', registrationId: c.d.deviceId },
      });
      // Committed with the enrolment, carried out by the outbox.
      expect((await detail(a.d.deviceId)).hubSync).toMatchObject([
        { topic: 'hub.device-sync', status: 'pending' },
      ]);
      await drain();

      const id = a.d.deviceId;
      const [cert] = await certsOf(id);
      const certId = awsCertificateId(cert!.der);
      expect(aws.names(from.aws)).toEqual([
        `POST /things/${id}`,
        `POST /policies/trustlink-${id}`,
        'POST /certificate/register-no-ca',
        `PUT /target-policies/trustlink-${id}`,
        `PUT /things/${id}/principals`,
      ]);
      const calls = aws.calls.slice(from.aws);
      expect(calls[2]!.body).toEqual({ certificatePem: toPem(cert!.der), status: 'ACTIVE' });
      const certArn = `arn:aws:iot:${AWS.region}:123456789012:cert/${certId}`;
      expect(calls[3]!.body).toEqual({ target: certArn });
      expect(calls[4]!.headers['x-amzn-principal']).toBe(certArn);
      const policy = JSON.parse(String(calls[1]!.body.policyDocument));
      expect(JSON.stringify(policy)).toContain(`client/${id}`);
      expect(aws.state.certs.get(certId)?.status).toBe('ACTIVE');
      expect(aws.state.things.get(id)).toEqual(new Set([certArn]));
      const recorded = await req('GET', `/api/v1/hubs/${hubIds.aws}/devices/${id}`);
      expect(recorded.status, recorded.text).toBe(200);
      expect(
        recorded
          .json<{ objects: { kind: string; state: string; remoteId: string }[] }>()
          .objects.map((o) => `${o.kind}:${o.state}:${o.remoteId}`)
          .sort(),
      ).toEqual([
        `certificate:active:${certArn}`,
        `policy:active:trustlink-${id}`,
        `thing:active:arn:aws:iot:${AWS.region}:123456789012:thing/${id}`,
      ]);

      const zid = z.d.deviceId;
      const [zcert] = await certsOf(zid);
      expect(azure.names(from.azure)).toEqual([`PUT /devices/${zid}`]);
      expect(azure.calls.at(-1)!.body).toEqual({
        deviceId: zid,
        status: 'enabled',
        authentication: {
          type: 'selfSigned',
          x509Thumbprint: { primaryThumbprint: sha256Hex(zcert!.der), secondaryThumbprint: null },
        },
      });
      expect(azure.calls.at(-1)!.headers['if-match']).toBeUndefined();

      const cid = c.d.deviceId;
      const [ccert] = await certsOf(cid);
      expect(central.names(from.central)).toEqual([
        `PUT /api/devices/${cid}`,
        `PUT /api/devices/${cid}/attestation`,
      ]);
      expect(central.calls.at(-1)!.body).toEqual({
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: toPem(ccert!.der) } } },
      });
      expect([...aws.refused, ...azure.refused, ...central.refused]).toEqual([]);
      for (const d of [a.d, z.d, c.d])
        expect((await detail(d.deviceId)).hubSync).toMatchObject([
          { topic: 'hub.device-sync', status: 'done', lastError: null },
        ]);

      // Idempotent: the same sync again finds nothing left to do.
      const before = aws.calls.length + azure.calls.length + central.calls.length;
      await server.runtime.hubs.cloud.syncDevice(i(), hubIds.aws, id);
      await server.runtime.hubs.cloud.syncDevice(i(), hubIds.azure, zid);
      await server.runtime.hubs.cloud.syncDevice(i(), hubIds.central, cid);
      expect(aws.calls.length + azure.calls.length + central.calls.length).toBe(before);
    });

    it('ok/renewal registers the new certificate first and retires the old one once it is seen in use', async () => {
      const from = {
        aws: aws.calls.length,
        azure: azure.calls.length,
        central: central.calls.length,
      };
      clock.advance(2.5 * HOUR);
      expect((await server.runtime.enrolment.jobs.runOnce()).renewed).toBe(3);
      await drain();
      const a = devices.aws!.deviceId;
      const [oldA, newA] = await certsOf(a);
      expect(aws.names(from.aws)).toEqual([
        'POST /certificate/register-no-ca',
        `PUT /target-policies/trustlink-${a}`,
        `PUT /things/${a}/principals`,
      ]);
      // Both are accepted while the device switches.
      expect(aws.state.certs.get(awsCertificateId(oldA!.der))?.status).toBe('ACTIVE');
      expect(aws.state.certs.get(awsCertificateId(newA!.der))?.status).toBe('ACTIVE');

      const z = devices.azure!.deviceId;
      const [oldZ, newZ] = await certsOf(z);
      expect(azure.names(from.azure)).toEqual([`PUT /devices/${z}`]);
      expect(azure.calls.at(-1)!.headers['if-match']).toBe('*');
      expect(azure.calls.at(-1)!.body.authentication).toEqual({
        type: 'selfSigned',
        x509Thumbprint: {
          primaryThumbprint: sha256Hex(newZ!.der),
          secondaryThumbprint: sha256Hex(oldZ!.der),
        },
      });
      const c = devices.central!.deviceId;
      const [oldC, newC] = await certsOf(c);
      expect(central.names(from.central)).toEqual([`PUT /api/devices/${c}/attestation`]);
      expect(central.calls.at(-1)!.body).toEqual({
        type: 'x509',
        x509: {
          clientCertificates: {
            primary: { certificate: toPem(newC!.der) },
            secondary: { certificate: toPem(oldC!.der) },
          },
        },
      });

      // Not seen with the new certificate yet: nothing is retired.
      expect(await server.runtime.hubs.cloud.retirePass(server.runtime.db.kysely)).toBe(0);

      // Each device checks in with its new certificate.
      clock.advance(60_000);
      for (const [d, cert] of [
        [devices.aws!, newA!],
        [devices.azure!, newZ!],
        [devices.central!, newC!],
      ] as const) {
        const s = await server.deviceRequest('GET', '/device/v1/status', tlsAs(d, toPem(cert.der)));
        expect(s.status, s.text).toBe(200);
      }
      await server.runtime.enrolment.recorder.flush();
      const mark = {
        aws: aws.calls.length,
        azure: azure.calls.length,
        central: central.calls.length,
      };
      expect(await server.runtime.hubs.cloud.retirePass(server.runtime.db.kysely)).toBe(3);
      await drain();
      const oldArn = `arn:aws:iot:${AWS.region}:123456789012:cert/${awsCertificateId(oldA!.der)}`;
      expect(aws.names(mark.aws)).toEqual([
        `PUT /certificates/${awsCertificateId(oldA!.der)}`,
        `DELETE /things/${a}/principals`,
        `POST /target-policies/trustlink-${a}`,
      ]);
      expect(aws.calls[mark.aws]!.query).toEqual({ newStatus: 'INACTIVE' });
      expect(aws.calls[mark.aws + 1]!.headers['x-amzn-principal']).toBe(oldArn);
      expect(aws.state.certs.get(awsCertificateId(oldA!.der))?.status).toBe('INACTIVE');
      expect(azure.names(mark.azure)).toEqual([`PUT /devices/${z}`]);
      expect(azure.calls.at(-1)!.body.authentication).toEqual({
        type: 'selfSigned',
        x509Thumbprint: { primaryThumbprint: sha256Hex(newZ!.der), secondaryThumbprint: null },
      });
      expect(central.names(mark.central)).toEqual([`PUT /api/devices/${c}/attestation`]);
      expect(central.calls.at(-1)!.body).toEqual({
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: toPem(newC!.der) } } },
      });
      expect(await server.runtime.hubs.cloud.retirePass(server.runtime.db.kysely)).toBe(0);
      expect([...aws.refused, ...azure.refused, ...central.refused]).toEqual([]);
    });

    it('ok/revocation: AWS marks the certificates REVOKED and detaches; Azure disables; Central blocks', async () => {
      clock.advance(1000);
      const from = {
        aws: aws.calls.length,
        azure: azure.calls.length,
        central: central.calls.length,
      };
      for (const d of Object.values(devices)) {
        const r = await req('POST', `/api/v1/devices/${d!.deviceId}/revoke`, {
          reason: 'keyCompromise',
        });
        expect(r.status, r.text).toBe(200);
      }
      await drain();
      const a = devices.aws!.deviceId;
      const [oldA, newA] = await certsOf(a);
      expect(aws.names(from.aws)).toEqual([
        `PUT /certificates/${awsCertificateId(newA!.der)}`,
        `DELETE /things/${a}/principals`,
        `POST /target-policies/trustlink-${a}`,
        `PUT /certificates/${awsCertificateId(oldA!.der)}`,
      ]);
      expect(aws.calls[from.aws]!.query).toEqual({ newStatus: 'REVOKED' });
      expect(aws.state.certs.get(awsCertificateId(newA!.der))?.status).toBe('REVOKED');
      expect(aws.state.certs.get(awsCertificateId(oldA!.der))?.status).toBe('REVOKED');
      expect(aws.state.things.get(a)).toEqual(new Set());

      const z = devices.azure!.deviceId;
      expect(azure.names(from.azure)).toEqual([`PUT /devices/${z}`]);
      expect(azure.calls.at(-1)!.body.status).toBe('disabled');
      const c = devices.central!.deviceId;
      expect(central.names(from.central)).toEqual([`PATCH /api/devices/${c}`]);
      expect(central.calls.at(-1)!.body).toEqual({ enabled: false });
      expect(central.devices.get(c)?.enabled).toBe(false);
      for (const d of Object.values(devices))
        expect((await detail(d!.deviceId)).hubSync[0]).toMatchObject({
          topic: 'hub.device-revoked',
          status: 'done',
        });
      expect([...aws.refused, ...azure.refused, ...central.refused]).toEqual([]);
    });

    it('ok/a cloud that is down: the device is enrolled, its hub sync is pending, the calls follow when it is back', async () => {
      for (const f of [aws, azure, central] as FakeEndpoint[]) await f.stop();
      const from = {
        aws: aws.calls.length,
        azure: azure.calls.length,
        central: central.calls.length,
      };
      const enrolled = {
        aws: (await enrol('aws')).d,
        azure: (await enrol('azure')).d,
        central: (await enrol('central')).d,
      };
      await drain();
      for (const d of Object.values(enrolled)) {
        const v = await detail(d.deviceId);
        expect(v.state).toBe('enrolled');
        expect(v.hubSync).toHaveLength(1);
        expect(v.hubSync[0]).toMatchObject({ topic: 'hub.device-sync', status: 'pending' });
        expect(v.hubSync[0]!.lastError).toMatch(/ECONNREFUSED|connect/);
      }
      for (const f of [aws, azure, central] as FakeEndpoint[]) await f.start();
      clock.advance(backoffMs(1) + 1000);
      await drain();
      const id = enrolled.aws.deviceId;
      expect(aws.names(from.aws)).toEqual([
        `POST /things/${id}`,
        `POST /policies/trustlink-${id}`,
        'POST /certificate/register-no-ca',
        `PUT /target-policies/trustlink-${id}`,
        `PUT /things/${id}/principals`,
      ]);
      expect(azure.names(from.azure)).toEqual([`PUT /devices/${enrolled.azure.deviceId}`]);
      expect(central.names(from.central)).toEqual([
        `PUT /api/devices/${enrolled.central.deviceId}`,
        `PUT /api/devices/${enrolled.central.deviceId}/attestation`,
      ]);
      for (const d of Object.values(enrolled))
        expect((await detail(d.deviceId)).hubSync[0]).toMatchObject({
          status: 'done',
          lastError: null,
        });
    });

    it('ok/a cloud down for longer than the retries: the sync gives up, then starts afresh and catches up', async () => {
      await central.stop();
      const d = (await enrol('central')).d;
      // Twelve attempts, each when its backoff has passed (about 37 minutes in all).
      await drain();
      for (let n = 1; n < 12; n++) {
        clock.advance(backoffMs(n) + 1000);
        await drain();
      }
      expect((await detail(d.deviceId)).hubSync).toMatchObject([
        { topic: 'hub.device-sync', status: 'failed' },
      ]);
      await central.start();
      const retry = () =>
        server.runtime.hubs.cloud.retryFailed(server.runtime.db.kysely, {
          before: new Date(clock.now().getTime() - HOUR),
        });
      expect(await retry()).toBe(0); // it gave up just now
      clock.advance(HOUR + backoffMs(12) + 1000);
      expect(await retry()).toBe(1);
      expect(await retry()).toBe(0); // the fresh intent covers it
      const from = central.calls.length;
      await drain();
      expect(central.names(from)).toEqual([
        `PUT /api/devices/${d.deviceId}`,
        `PUT /api/devices/${d.deviceId}/attestation`,
      ]);
      expect((await detail(d.deviceId)).hubSync).toMatchObject([
        { topic: 'hub.device-sync', status: 'done' },
        { topic: 'hub.device-sync', status: 'failed' },
      ]);
    });

    it('ok/a sync that failed half-way resumes where it stopped: nothing done twice', async () => {
      const d = await testDevice();
      await register(server, admin, batches.aws, d.deviceId);
      const id = d.deviceId;
      aws.failOnce.push(`PUT /things/${id}/principals`);
      const r = await devicePost(server, '/device/v1/enrol', enrolBody(d), tlsAs(d));
      expect(r.status, r.text).toBe(200);
      const from = aws.calls.length;
      await drain();
      expect(aws.names(from)).toEqual([
        `POST /things/${id}`,
        `POST /policies/trustlink-${id}`,
        'POST /certificate/register-no-ca',
        `PUT /target-policies/trustlink-${id}`,
      ]);
      expect((await detail(id)).hubSync[0]).toMatchObject({ status: 'pending' });
      expect(aws.refused.at(-1)).toMatchObject({
        call: `PUT /things/${id}/principals`,
        status: 500,
      });
      aws.refused.length = 0;
      clock.advance(backoffMs(1) + 1000);
      const mark = aws.calls.length;
      await drain();
      // The certificate is not registered again; attaching is repeated (AWS treats it as idempotent).
      expect(aws.names(mark)).toEqual([
        `PUT /target-policies/trustlink-${id}`,
        `PUT /things/${id}/principals`,
      ]);
      expect((await detail(id)).hubSync[0]).toMatchObject({ status: 'done', lastError: null });
    });

    it('fail/a wrong key: the status says the credentials were rejected, and syncs say why they wait', async () => {
      const put = (id: string, type: string, name: string, settings: Record<string, unknown>) =>
        req('PUT', `/api/v1/hubs/${id}`, { name, type, settings });
      const awsSettings = {
        region: AWS.region,
        endpoint: '127.0.0.1',
        apiEndpoint: aws.url(),
        apiCaCertificate: aws.caPem,
      };
      const azureSettings = {
        hostName: 'localhost',
        sharedAccessPolicyName: 'registryReadWrite',
        apiEndpoint: azure.url(),
        apiCaCertificate: azure.caPem,
      };
      const centralSettings = {
        appUrl: central.url(),
        idScope: '0ne00A1B2C3',
        apiCaCertificate: central.caPem,
      };
      expect(
        (
          await put(hubIds.aws, 'aws-iot-core', 'AWS', {
            ...awsSettings,
            secretAccessKey: 'not-the-key',
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await put(hubIds.azure, 'azure-iot-hub', 'Azure', {
            ...azureSettings,
            sharedAccessKey: Buffer.from('wrong').toString('base64'),
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await put(hubIds.central, 'azure-iot-central', 'Central', {
            ...centralSettings,
            apiToken: 'SharedAccessSignature sr=x&sig=y&se=1',
          })
        ).status,
      ).toBe(200);
      for (const st of await hubStatuses()) {
        expect(st.ok).toBe(false);
        expect(st.detail).toMatch(/^credentials rejected: /);
      }
      expect(aws.refused.at(-1)).toMatchObject({ call: 'GET /endpoint', status: 403 });
      expect(aws.refused.at(-1)!.reason).toContain('signature');

      const d = (await enrol('aws')).d;
      await drain();
      expect((await detail(d.deviceId)).hubSync[0]).toMatchObject({ status: 'pending' });
      expect((await detail(d.deviceId)).hubSync[0]!.lastError).toMatch(
        /^credentials rejected: InvalidSignatureException/,
      );

      // The right key again: the status recovers and the waiting device catches up.
      expect(
        (
          await put(hubIds.aws, 'aws-iot-core', 'AWS', {
            ...awsSettings,
            secretAccessKey: AWS.secretAccessKey,
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await put(hubIds.azure, 'azure-iot-hub', 'Azure', {
            ...azureSettings,
            sharedAccessKey: AZURE_KEY,
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await put(hubIds.central, 'azure-iot-central', 'Central', {
            ...centralSettings,
            apiToken: CENTRAL_TOKEN,
          })
        ).status,
      ).toBe(200);
      for (const st of await hubStatuses()) expect(st, st.detail).toMatchObject({ ok: true });
      clock.advance(backoffMs(1) + 1000);
      await drain();
      expect((await detail(d.deviceId)).hubSync[0]).toMatchObject({ status: 'done' });
      for (const f of [aws, azure, central] as FakeEndpoint[]) f.refused.length = 0;
    });

    it('ok/CA registration: our issuing CA with its verification certificate; a rollover registers the new CA before it issues', async () => {
      const hub = await req('POST', '/api/v1/hubs', {
        name: 'AWS with our CA',
        type: 'aws-iot-core',
        settings: {
          region: AWS.region,
          endpoint: '127.0.0.1',
          accessKeyId: AWS.accessKeyId,
          secretAccessKey: AWS.secretAccessKey,
          registration: 'ca',
          jitpRoleArn: 'arn:aws:iam::123456789012:role/TrustlinkJitp',
          apiEndpoint: aws.url(),
          apiCaCertificate: aws.caPem,
        },
      });
      expect(hub.status, hub.text).toBe(201);
      const hubId = hub.json<{ id: string }>().id;
      const privateApi = await req('PUT', `/api/v1/hubs/${hubId}`, {
        name: 'AWS with our CA',
        type: 'aws-iot-core',
        settings: { region: AWS.region, endpoint: '127.0.0.1', apiEndpoint: 'https://10.1.2.3' },
      });
      expect(privateApi.status, privateApi.text).toBe(400);
      expect(privateApi.text).toMatch(/outbound-address-refused/);
      expect(privateApi.text).toContain('10.1.2.3');
      const batch = await policyFor('AWS CA', hub.json<{ id: string }>().id, {
        value: 1,
        unit: 'days',
      });
      await drain();
      const from = aws.calls.length;
      const d1 = (await enrolIn(batch)).d;
      await drain();
      const id = d1.deviceId;
      const [cert] = await certsOf(id);
      const issuer = (await server.runtime.pkiServices.caRepo.find(i(), cert!.issuerId))!;
      // The CA was registered once, with its verification certificate (checked by the fake:
      // subject = the registration code, signed by the CA), before any certificate under it.
      const caCalls = aws.calls.filter((c) => c.call === 'POST /cacertificate');
      expect(caCalls.map((c) => c.body.caCertificate)).toEqual([toPem(issuer.der)]);
      // Just-in-time provisioning: auto-registration with the role and a template that makes
      // the thing from the certificate's CN and attaches the device policy.
      expect(caCalls[0]!.query).toMatchObject({
        setAsActive: 'true',
        allowAutoRegistration: 'true',
      });
      const jitp = caCalls[0]!.body.registrationConfig as { roleArn: string; templateBody: string };
      expect(jitp.roleArn).toBe('arn:aws:iam::123456789012:role/TrustlinkJitp');
      const template = JSON.parse(jitp.templateBody);
      expect(template.Resources.thing.Properties.ThingName).toEqual({
        Ref: 'AWS::IoT::Certificate::CommonName',
      });
      expect(template.Resources.policy.Properties.PolicyDocument).toContain(
        'client/${iot:Connection.Thing.ThingName}',
      );
      expect(aws.names()[aws.calls.indexOf(caCalls[0]!) - 1]).toBe('GET /registrationcode');
      expect(aws.calls.indexOf(caCalls[0]!)).toBeLessThan(aws.calls.length - 5);
      expect(aws.names(from).slice(-5)).toEqual([
        `POST /things/${id}`,
        `POST /policies/trustlink-${id}`,
        'POST /certificate/register',
        `PUT /target-policies/trustlink-${id}`,
        `PUT /things/${id}/principals`,
      ]);
      expect(aws.calls.at(-3)!.body).toEqual({
        certificatePem: toPem(cert!.der),
        caCertificatePem: toPem(issuer.der),
        status: 'ACTIVE',
      });
      expect(
        new X509Certificate(toPem(cert!.der)).verify(
          new X509Certificate(toPem(issuer.der)).publicKey,
        ),
      ).toBe(true);

      // Rollover: the successor is registered with AWS as soon as it exists.
      clock.advance(17 * HOUR);
      await server.runtime.pkiServices.issuingCas.renewDue(i());
      const next = (await server.runtime.pkiServices.caRepo.newestOfLineage(
        i(),
        issuer.lineageId ?? issuer.id,
      ))!;
      expect(next.id).not.toBe(issuer.id);
      // The intent is written when the PKI announces the new CA.
      await eventually(
        async () => (await server.runtime.outbox.forSubject(i(), `ca:${next.id}`)).length > 0,
        10_000,
        'the CA rollover intent',
      );
      const mark = aws.calls.length;
      await drain();
      expect(aws.names(mark)).toEqual(['GET /registrationcode', 'POST /cacertificate']);
      expect(aws.calls.at(-1)!.body.caCertificate).toBe(toPem(next.der));
      expect(aws.calls.at(-1)!.query).toMatchObject({ setAsActive: 'true' });

      // The next device's certificate comes from the new CA, already known to AWS.
      const d2 = (await enrolIn(batch)).d;
      const m2 = aws.calls.length;
      await drain();
      const [c2] = await certsOf(d2.deviceId);
      expect(c2!.issuerId).toBe(next.id);
      expect(aws.names(m2)).toEqual([
        `POST /things/${d2.deviceId}`,
        `POST /policies/trustlink-${d2.deviceId}`,
        'POST /certificate/register',
        `PUT /target-policies/trustlink-${d2.deviceId}`,
        `PUT /things/${d2.deviceId}/principals`,
      ]);
      expect(aws.calls.at(-3)!.body.caCertificatePem).toBe(toPem(next.der));
      expect(aws.refused).toEqual([]);
    });

    it('ok/Azure IoT Hub with CA authentication: the identity trusts the CA; renewal needs no call', async () => {
      const hub = await req('POST', '/api/v1/hubs', {
        name: 'Azure CA',
        type: 'azure-iot-hub',
        settings: {
          hostName: 'localhost',
          sharedAccessPolicyName: 'registryReadWrite',
          sharedAccessKey: AZURE_KEY,
          authentication: 'ca',
          apiEndpoint: azure.url(),
          apiCaCertificate: azure.caPem,
        },
      });
      expect(hub.status, hub.text).toBe(201);
      const batch = await policyFor('Azure CA', hub.json<{ id: string }>().id);
      const from = azure.calls.length;
      const d = (await enrolIn(batch)).d;
      await drain();
      expect(azure.names(from)).toEqual([`PUT /devices/${d.deviceId}`]);
      expect(azure.calls.at(-1)!.body).toEqual({
        deviceId: d.deviceId,
        status: 'enabled',
        authentication: {
          type: 'certificateAuthority',
          x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
        },
      });
      // Other tests' devices may renew too: only this device's calls count.
      const mine = () => azure.names(from).filter((n) => n.endsWith(`/${d.deviceId}`));
      clock.advance(2.5 * HOUR);
      await server.runtime.enrolment.jobs.runOnce();
      await drain();
      expect(mine()).toEqual([`PUT /devices/${d.deviceId}`]);
      const r = await req('POST', `/api/v1/devices/${d.deviceId}/revoke`, { reason: 'superseded' });
      expect(r.status, r.text).toBe(200);
      await drain();
      expect(mine()).toEqual([`PUT /devices/${d.deviceId}`, `PUT /devices/${d.deviceId}`]);
      expect(azure.calls.at(-1)!.body).toMatchObject({ deviceId: d.deviceId, status: 'disabled' });
      expect(azure.refused).toEqual([]);
    });

    it('ok/with the worker running, a new certificate reaches the cloud at once, not at the next tick', async () => {
      // A tick a minute away: only the kick after the commit can make these calls in time.
      server.runtime.outboxWorker.start(60_000);
      try {
        const from = central.calls.length;
        const d = (await enrol('central')).d;
        await eventually(() => central.calls.length - from >= 2, 10_000, 'the Central calls');
        expect(central.names(from)).toEqual([
          `PUT /api/devices/${d.deviceId}`,
          `PUT /api/devices/${d.deviceId}/attestation`,
        ]);
      } finally {
        await server.runtime.outboxWorker.stop();
      }
    });
  });
}
