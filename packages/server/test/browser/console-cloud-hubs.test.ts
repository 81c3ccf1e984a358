import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IOT_HUB_API_VERSION } from '../../src/hubs/azure/azure-iot-hub-connector.js';
import {
  launchBrowser,
  rootPin,
  unexpectedProblems,
  type ConsolePage,
} from '../../src/test-helpers/browser.js';
import { createTestUsers, type TestPrincipal } from '../../src/test-helpers/test-auth.js';
import { fakeAwsIot, fakeAzureIotHub } from '../../src/test-helpers/test-cloud-hubs.js';
import {
  devicePost,
  enrolBody,
  register,
  testDevice,
  tlsAs,
} from '../../src/test-helpers/test-devices.js';
import { startTestServer, type TestServer } from '../../src/test-helpers/test-server.js';
import { SIGNED_OUT_PROBE, signInAs } from './console-flows.js';

const AWS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  region: 'eu-west-1',
};
const AZURE_KEY = Buffer.from('an IoT hub shared access key....').toString('base64');
const WRONG_AZURE_KEY = Buffer.from('a key the hub has never issued..').toString('base64');

/** Refusals the tests provoke on purpose (the bad policy document). */
const EXPECTED = [SIGNED_OUT_PROBE, /status of 400 .*\/api\/v1\/hubs$/];

/** expect.poll's default of one second is too short on a loaded machine. */
const POLL = { timeout: 30_000, interval: 500 };
/** Hub checks and syncs call the stand-ins: allow for a loaded machine. */
const WAIT = { timeout: 30_000 };

const menuLink = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Areas' }).getByRole('link', { name, exact: true });

// The cloud hub forms against the real server (SQLite), whose connectors call local stand-ins
// of the AWS IoT and Azure IoT Hub APIs that check signatures as the clouds do: an AWS hub
// refused for a bad policy statement and then saved, an Azure hub whose key the cloud rejects
// and which is put right in its edit form with the secret obscured; a device's cloud objects
// and its refused sync on the device page; and a contributor who reads it all without controls.
describe('console: cloud IoT hubs (AWS IoT Core, Azure IoT Hub) in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let base: string;
  let admin: ConsolePage;
  let adminHeaders: Record<string, string>;
  let apiAdmin: TestPrincipal;
  const aws = fakeAwsIot(AWS);
  const azure = fakeAzureIotHub({
    hostName: 'localhost',
    policyName: 'registryReadWrite',
    key: AZURE_KEY,
    apiVersion: IOT_HUB_API_VERSION,
  });
  const hubIds = { aws: '', azure: '' };
  const devices = { aws: '', azure: '' };
  let batches = { aws: '', azure: '' };

  const api = (method: string, url: string, body?: unknown) =>
    server.request(method, url, { headers: apiAdmin.headers, body });
  /** Runs the outbox until nothing is due (the worker also runs on its own). */
  const drain = async () => {
    for (let n = 0; n < 20 && (await server.runtime.outboxWorker.runOnce()) > 0; n++);
  };
  const batchOnHub = async (name: string, hubId: string) => {
    const p = await api('POST', '/api/v1/policies', {
      name,
      connectionType: 'iot-hub',
      hubId,
      deviceCertificate: {
        lifetime: { value: 3, unit: 'hours' },
        renewGracePeriod: { value: 1, unit: 'hours' },
        autoRenew: true,
      },
      issuingCertificate: { lifetime: { value: 5, unit: 'years' } },
    });
    expect(p.status, p.text).toBe(201);
    const b = await api('POST', '/api/v1/batches', { name, policyId: p.json<{ id: string }>().id });
    expect(b.status, b.text).toBe(201);
    return b.json<{ id: string }>().id;
  };
  const enrolIn = async (batchId: string) => {
    const d = await testDevice('P-256');
    await register(server, apiAdmin, batchId, d.deviceId);
    const r = await devicePost(server, '/device/v1/enrol', enrolBody(d), tlsAs(d));
    expect(r.status, r.text).toBe(200);
    return d.deviceId;
  };

  beforeAll(async () => {
    await aws.start();
    await azure.start();
    // The stand-ins listen on 127.0.0.1, which the outbound guard refuses unless allowed.
    server = await startTestServer('sqlite', {
      env: { TRUSTLINK_OUTBOUND_ALLOW_LIST: '127.0.0.1' },
    });
    base = `https://127.0.0.1:${new URL(server.managementUrl).port}`;
    browser = await launchBrowser([rootPin(server.rootPem)]);
    const signedIn = await signInAs(server, browser, base, 'administrator', 'cloud-admin');
    admin = signedIn.console;
    adminHeaders = signedIn.headers;
    ({ admin: apiAdmin } = await createTestUsers(server));
  });
  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await server?.close();
    await aws.stop();
    await azure.stop();
  });

  it('ok/AWS IoT Core: defaults prefilled, a bad policy statement refused beside the field, saved and green', async () => {
    const { page } = admin;
    await menuLink(page, 'IoT Hubs').click();
    await page.getByText('No IoT hubs yet').waitFor();
    await page.getByRole('button', { name: 'Create IoT hub' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create IoT hub' });
    await dialog.getByLabel(/^IoT hub name/).fill('Fleet on AWS');
    await dialog.getByRole('combobox', { name: 'IoT hub type' }).click();
    await page.getByRole('option', { name: 'AWS IoT Core' }).click();

    // The server's defaults arrive in the form: Amazon's root, the policy template, port 8883.
    const root = dialog.getByLabel('Root certificate', { exact: true });
    const policy = dialog.getByLabel('IoT policy document');
    await expect.poll(() => root.inputValue(), POLL).toMatch(/^-----BEGIN CERTIFICATE-----/);
    await expect.poll(() => policy.inputValue(), POLL).toContain('client/{{deviceId}}');
    expect(await dialog.getByLabel(/^Port/).inputValue()).toBe('8883');

    // What the form checks itself, before anything is sent.
    await dialog.getByLabel(/^Region/).fill('Ireland');
    await dialog.getByRole('button', { name: 'Create IoT hub' }).click();
    await dialog.getByText('Region must be an AWS region (eu-west-1).').waitFor();
    await dialog.getByText('Access key ID is required.').waitFor();

    await dialog.getByLabel(/^Region/).fill(AWS.region);
    await dialog.getByLabel(/^Access key ID/).fill(AWS.accessKeyId);
    await dialog.getByLabel(/^Secret access key/).fill(AWS.secretAccessKey);
    await dialog.getByLabel(/^Device data endpoint/).fill('127.0.0.1');
    await dialog.getByRole('button', { name: 'API endpoint (advanced)' }).click();
    await dialog.getByLabel('API endpoint', { exact: true }).fill(aws.url());
    await dialog.getByLabel('API CA certificate', { exact: true }).fill(aws.caPem);

    // A statement without Effect and one without Resource: the server names both.
    await policy.fill(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'iot:Connect',
            Resource: 'arn:aws:iot:*:*:client/{{deviceId}}',
          },
          { Action: 'iot:Publish', Resource: 'arn:aws:iot:*:*:topic/devices/{{deviceId}}/*' },
          { Effect: 'Allow', Action: 'iot:Subscribe' },
        ],
      }),
    );
    await dialog.getByRole('button', { name: 'Create IoT hub' }).click();
    const policyError = dialog.getByText(
      'statement 2: Effect must be Allow or Deny; statement 3: Resource is required',
    );
    await policyError.waitFor();
    // Beside the field: the text is the policy box's own error message.
    expect(await policy.getAttribute('aria-invalid')).toBe('true');
    await policyError.scrollIntoViewIfNeeded();
    await admin.screenshot('hub-form-aws-refused');
    await dialog.getByRole('button', { name: 'Reset to the default policy' }).click();
    await dialog.getByRole('button', { name: 'Format JSON' }).click();
    expect(await policy.inputValue()).toMatch(/^\{\n {2}"Version": "2012-10-17"/);
    await dialog.getByRole('button', { name: 'Create IoT hub' }).click();

    const row = page.getByTestId('hub-Fleet on AWS');
    await row.waitFor();
    // The stand-in accepts the signed DescribeEndpoint: the hub is green, and the detail says
    // the account's data endpoint differs from the one set.
    await row.getByText('reachable', { exact: true }).waitFor(WAIT);
    await row
      .getByTestId('hub-status-detail')
      .getByText(/AWS IoT API accepts the key/)
      .waitFor();
    expect(await row.innerText()).toMatch(/eu-west-1, 127\.0\.0\.1:8883, per-device certificates/);
    expect(aws.names()).toContain('GET /endpoint');

    const hubs = await server.request('GET', '/api/v1/hubs', { headers: adminHeaders });
    const stored = hubs.json<{
      items: {
        id: string;
        settings: Record<string, unknown>;
        secrets: Record<string, { set: boolean }>;
      }[];
    }>().items[0]!;
    hubIds.aws = stored.id;
    expect(stored.secrets).toEqual({ accessKeyId: { set: true }, secretAccessKey: { set: true } });
    expect(stored.settings).toMatchObject({
      region: 'eu-west-1',
      port: 8883,
      apiEndpoint: aws.url(),
    });
    expect(String(stored.settings.policyDocument)).toContain('topicfilter/devices/{{deviceId}}/*');
    expect(unexpectedProblems(admin.problems, EXPECTED)).toEqual([]);
  });

  it('ok/Azure IoT Hub: a key the cloud rejects shows as such, on the hub and on a device page', async () => {
    const { page } = admin;
    await page.getByRole('button', { name: 'Create IoT hub' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create IoT hub' });
    await dialog.getByLabel(/^IoT hub name/).fill('Plant on Azure');
    await dialog.getByRole('combobox', { name: 'IoT hub type' }).click();
    await page.getByRole('option', { name: 'Azure IoT Hub' }).click();
    await expect
      .poll(() => dialog.getByLabel('Root certificate', { exact: true }).inputValue(), POLL)
      .toMatch(/(BEGIN CERTIFICATE[\s\S]+){2}/);
    await dialog.getByLabel(/^Host name/).fill('localhost');
    await dialog.getByLabel(/^Shared access policy name/).fill('registryReadWrite');
    await dialog.getByLabel(/^Shared access key/).fill(WRONG_AZURE_KEY);
    await dialog.getByRole('button', { name: 'API endpoint (advanced)' }).click();
    await dialog.getByLabel('API endpoint', { exact: true }).fill(azure.url());
    await dialog.getByLabel('API CA certificate', { exact: true }).fill(azure.caPem);
    await dialog.getByRole('button', { name: 'Create IoT hub' }).click();
    const row = page.getByTestId('hub-Plant on Azure');
    await row.getByText('credentials rejected', { exact: true }).waitFor(WAIT);
    await row
      .getByTestId('hub-status-detail')
      .getByText(/^credentials rejected: /)
      .waitFor();
    hubIds.azure = (await server.request('GET', '/api/v1/hubs', { headers: adminHeaders }))
      .json<{ items: { id: string; name: string }[] }>()
      .items.find((h) => h.name === 'Plant on Azure')!.id;

    // The dashboard tile says one of two answers, and that a cloud refuses the key.
    await menuLink(page, 'Dashboard').click();
    const tile = page.getByTestId('status-hubs');
    await tile.getByText('1 of 2').waitFor();
    await tile.hover();
    await page
      .getByRole('tooltip')
      .getByText(/1 cloud hub refuses the credentials/)
      .waitFor();
    await page.mouse.move(0, 0);

    // Devices on each hub: the AWS one lands in the cloud, the Azure one waits with the reason.
    batches = {
      aws: await batchOnHub('AWS line', hubIds.aws),
      azure: await batchOnHub('Azure line', hubIds.azure),
    };
    devices.aws = await enrolIn(batches.aws);
    devices.azure = await enrolIn(batches.azure);
    await drain();

    await page.goto(`/devices/${batches.azure}/${devices.azure}`);
    const sync = page.getByRole('table', { name: 'Hub sync of the device' });
    await sync.getByTestId('hub-sync-error').getByText('credentials rejected').waitFor();
    await sync
      .getByTestId('hub-sync-error')
      .getByText(/IotHubUnauthorizedAccess|401/)
      .waitFor();
    await page.getByText('Nothing of this device is in Plant on Azure yet.').waitFor();
    await page.mouse.move(0, 0);
    await admin.screenshot('device-hub-sync-refused');

    await page.goto(`/devices/${batches.aws}/${devices.aws}`);
    const objects = page.getByRole('table', { name: 'Objects of the device in Fleet on AWS' });
    const thing = objects.getByTestId('cloud-object-thing');
    await thing.getByText(`arn:aws:iot:eu-west-1:123456789012:thing/${devices.aws}`).waitFor();
    await objects
      .getByTestId('cloud-object-policy')
      .getByText(`trustlink-${devices.aws}`)
      .waitFor();
    await objects.getByTestId('cloud-object-certificate').getByText('active').waitFor();
    await page
      .getByRole('table', { name: 'Hub sync of the device' })
      .getByText('done')
      .first()
      .waitFor();
    await page.mouse.move(0, 0);
    await admin.screenshot('device-cloud-objects');
    expect(unexpectedProblems(admin.problems, EXPECTED)).toEqual([]);
  });

  it('ok/the key put right in the edit form: secret obscured on reload, hub green, device synced', async () => {
    const { page } = admin;
    await menuLink(page, 'IoT Hubs').click();
    await page.reload();
    const row = page.getByTestId('hub-Plant on Azure');
    await row.getByText('credentials rejected', { exact: true }).waitFor(WAIT);
    expect(await row.innerText()).toMatch(/sharedAccessKey: \*{8}/);
    await row.getByRole('button', { name: 'Edit Plant on Azure' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit IoT hub Plant on Azure' });
    const key = edit.getByLabel(/^Shared access key/);
    expect(await key.inputValue()).toBe('');
    expect(await key.getAttribute('placeholder')).toBe('********');
    await edit.getByText(/A value is set: leave empty to keep it\./).waitFor();
    expect(await edit.getByLabel(/^Host name/).inputValue()).toBe('localhost');
    // No secret anywhere in the page: not in inputs, not in the markup.
    const html = await page.content();
    for (const s of [AWS.secretAccessKey, AWS.accessKeyId, WRONG_AZURE_KEY, AZURE_KEY])
      expect(html).not.toContain(s);

    await key.fill(AZURE_KEY);
    await edit.getByRole('button', { name: 'Save IoT hub' }).click();
    await page.getByText('IoT hub Plant on Azure is saved.').waitFor();
    await row.getByText('reachable', { exact: true }).waitFor(WAIT);

    // The waiting device catches up at its next attempt; its identity holds its thumbprint.
    await expect
      .poll(async () => {
        await drain();
        return azure.devices.has(devices.azure);
      }, POLL)
      .toBe(true);
    await page.goto(`/devices/${batches.azure}/${devices.azure}`);
    const identity = page
      .getByRole('table', { name: 'Objects of the device in Plant on Azure' })
      .getByTestId('cloud-object-identity');
    await identity.getByText(devices.azure).first().waitFor();
    await identity.getByText('enabled').waitFor();

    await menuLink(page, 'IoT Hubs').click();
    await page.getByTestId('hub-Fleet on AWS').getByText('reachable', { exact: true }).waitFor();
    await page.mouse.move(0, 0);
    await admin.screenshot('cloud-hubs');
    // The edit form of the AWS hub, for the docs: the same fields, the secrets kept.
    await page.getByRole('button', { name: 'Edit Fleet on AWS' }).click();
    const awsEdit = page.getByRole('dialog', { name: 'Edit IoT hub Fleet on AWS' });
    expect(await awsEdit.getByLabel(/^Secret access key/).inputValue()).toBe('');
    expect(await awsEdit.getByLabel('IoT policy document').inputValue()).toContain('{{deviceId}}');
    await admin.screenshot('hub-form-aws');
    await awsEdit.getByRole('button', { name: 'Cancel' }).click();
    expect(unexpectedProblems(admin.problems, EXPECTED)).toEqual([]);
  });

  it('ok/a contributor reads the cloud hubs and their settings, never a secret, with no controls', async () => {
    const { console: c, headers } = await signInAs(
      server,
      browser,
      base,
      'contributor',
      'cloud-reader',
    );
    try {
      const { page } = c;
      await menuLink(page, 'IoT Hubs').click();
      const row = page.getByTestId('hub-Fleet on AWS');
      await row.getByText('reachable', { exact: true }).waitFor(WAIT);
      expect(await page.getByRole('button', { name: 'Create IoT hub' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: /^(Edit|Delete) / }).count()).toBe(0);
      await row.getByRole('button', { name: 'Settings of Fleet on AWS' }).click();
      const view = page.getByRole('dialog', { name: 'IoT hub Fleet on AWS' });
      const region = view.getByLabel(/^Region/);
      expect(await region.inputValue()).toBe('eu-west-1');
      expect(await region.isDisabled()).toBe(true);
      expect(await view.getByLabel('IoT policy document').isDisabled()).toBe(true);
      const secret = view.getByLabel(/^Secret access key/);
      expect(await secret.inputValue()).toBe('');
      expect(await secret.isDisabled()).toBe(true);
      expect(await view.getByRole('button', { name: /^(Save|Create) IoT hub$/ }).count()).toBe(0);
      const html = await page.content();
      for (const s of [AWS.secretAccessKey, AWS.accessKeyId, AZURE_KEY])
        expect(html).not.toContain(s);
      await c.screenshot('contributor-cloud-hub');
      // The server refuses a change to a contributor anyway.
      const refused = await server.request('PUT', `/api/v1/hubs/${hubIds.aws}`, {
        headers,
        body: {
          name: 'Fleet on AWS',
          type: 'aws-iot-core',
          settings: { region: 'eu-west-1', endpoint: '127.0.0.1' },
        },
      });
      expect(refused.status).toBe(403);

      // The device page shows the cloud objects to a contributor as well.
      await page.goto(`/devices/${batches.aws}/${devices.aws}`);
      await page
        .getByRole('table', { name: 'Objects of the device in Fleet on AWS' })
        .getByTestId('cloud-object-thing')
        .waitFor();
      expect(unexpectedProblems(c.problems, [SIGNED_OUT_PROBE])).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
