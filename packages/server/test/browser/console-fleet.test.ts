import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  rootPin,
  unexpectedProblems,
  type ConsolePage,
} from '../../src/test-helpers/browser.js';
import { deviceIds } from '../../src/test-helpers/test-fleet.js';
import { startTestServer, type TestServer } from '../../src/test-helpers/test-server.js';
import { SIGNED_OUT_PROBE, signInAs } from './console-flows.js';

/** A field's label, exact, with or without the asterisk of a required field. */
const field = (label: string) => new RegExp(`^${label}\\s*\\*?$`);

/** A file the browser's file chooser picks, opened by clicking the labelled control. */
async function pickFile(page: Page, label: string, name: string, content: string) {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByLabel(label, { exact: true }).click(),
  ]);
  await chooser.setFiles({ name, mimeType: 'application/json', buffer: Buffer.from(content) });
}

// Policies and Devices in the console, against the real server: a policy made in its form
// (the form refusing what the server would), a batch made with the "create policy" path,
// device IDs added one by one and by file (bad entries refused by the browser first, then by
// the server, nothing added either time), counts on the Devices table and the dashboard.
describe('console: policies and devices in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: ConsolePage;
  let headers: Record<string, string>;
  const ids = deviceIds(5);
  const [a1, a2, a3, a4, other] = ids as [string, string, string, string, string];
  const uploads: string[] = [];

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    const base = `https://127.0.0.1:${new URL(server.managementUrl).port}`;
    browser = await launchBrowser([rootPin(server.rootPem)]);
    const signedIn = await signInAs(server, browser, base, 'administrator', 'fleet-admin');
    admin = signedIn.console;
    headers = signedIn.headers;
    admin.page.on('request', (r) => {
      if (r.url().endsWith('/devices/upload')) uploads.push(r.url());
    });
  });
  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await server?.close();
  });

  it('ok/Policies: the form refuses a device lifetime past the issuing CA, then creates the policy', async () => {
    const { page } = admin;
    await page
      .getByRole('navigation', { name: 'Areas' })
      .getByRole('link', { name: 'Policies' })
      .click();
    await page.getByText('No policies yet').waitFor();
    await page.getByRole('button', { name: 'Create policy' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create policy' });
    await dialog.getByLabel('Policy name').fill('Factory policy');
    await dialog.getByLabel(field('Device certificate lifetime')).fill('6');
    await dialog.getByLabel('ECDSA P-384').check();
    await dialog.getByLabel('Operational key allowed').check();
    const requests: string[] = [];
    const watch = (r: { url(): string; method(): string }) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/v1/policies')) requests.push(r.url());
    };
    page.on('request', watch);
    await dialog.getByRole('button', { name: 'Create policy' }).click();
    await dialog
      .getByText(
        'The device certificate lifetime (6 years) must not exceed the issuing certificate lifetime (5 years)',
      )
      .waitFor();
    expect(requests).toEqual([]);
    // Database direct needs a connection, which this version cannot list: said before sending.
    await dialog.getByText('Database direct', { exact: true }).click();
    await dialog.getByLabel(field('JWT lifetime')).waitFor();
    await admin.screenshot('policy-form');
    await dialog.getByText('IoT hub', { exact: true }).click();
    await dialog.getByLabel(field('Device certificate lifetime')).fill('2');
    await dialog.getByRole('button', { name: 'Create policy' }).click();
    const row = page.getByTestId('policy-Factory policy');
    await row.waitFor();
    page.off('request', watch);
    expect(requests).toHaveLength(1);
    expect(await row.innerText()).toMatch(/IoT hub[\s\S]*2 years[\s\S]*P-256[\s\S]*P-384/);
    const stored = await server.request('GET', '/api/v1/policies', { headers });
    expect(stored.json<{ items: unknown[] }>().items).toMatchObject([
      {
        name: 'Factory policy',
        deviceCertificate: {
          lifetime: { value: 2, unit: 'years' },
          keyTypes: ['P-256', 'P-384'],
          operationalKeyAllowed: true,
        },
        issuingCertificate: { lifetime: { value: 5, unit: 'years' }, keyType: 'P-256' },
        jwtLifetime: null,
      },
    ]);

    // The server's own refusal (a taken name) shows beside the field.
    await page.getByRole('button', { name: 'Create policy' }).click();
    await dialog.getByLabel('Policy name').fill('Factory policy');
    await dialog.getByRole('button', { name: 'Create policy' }).click();
    await dialog.getByText('a policy named "Factory policy" already exists').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    await admin.screenshot('policies');

    // Editing: the stored values come back in the form, and a change is saved.
    await page.getByRole('button', { name: 'Edit Factory policy' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit policy Factory policy' });
    expect(await edit.getByLabel(field('Device certificate lifetime')).inputValue()).toBe('2');
    expect(await edit.getByLabel('ECDSA P-384').isChecked()).toBe(true);
    await edit.getByLabel(field('Renewal grace period')).fill('14');
    await edit.getByRole('button', { name: 'Save policy' }).click();
    await expect.poll(() => edit.count()).toBe(0);
    await expect.poll(() => row.innerText()).toContain('grace 14 days');
  });

  it('ok/Devices: a batch made with the "create policy" path and an attribute filter', async () => {
    const { page } = admin;
    // Another batch, made through the API, holds a device ID the upload below will collide with.
    const policies = (await server.request('GET', '/api/v1/policies', { headers })).json<{
      items: { id: string }[];
    }>();
    const other_ = await server.request('POST', '/api/v1/batches', {
      headers,
      body: { name: 'Line B', policyId: policies.items[0]!.id },
    });
    const lineB = other_.json<{ id: string }>().id;
    await server.request('POST', `/api/v1/batches/${lineB}/devices`, {
      headers,
      body: { deviceId: other },
    });

    await page
      .getByRole('navigation', { name: 'Areas' })
      .getByRole('link', { name: 'Devices' })
      .click();
    await page.getByTestId('batch-Line B').waitFor();
    await page.getByRole('button', { name: 'Create batch' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create batch' });
    await dialog.getByLabel('Batch name').fill('Line A');
    await dialog.getByRole('button', { name: 'Add filter' }).click();
    await dialog.getByLabel('Attribute 1 name').fill('board');
    await dialog.getByLabel('Attribute 1 value').fill('rev-b');
    await dialog.getByRole('button', { name: 'Add filter' }).click();
    await dialog.getByLabel('Attribute 2 name').fill('os');
    await dialog.getByLabel('Attribute 2 value').fill('linux');
    await dialog.getByText('Any (OR)', { exact: true }).click();
    // The policy does not exist yet: make it from here, then come back to the batch.
    await dialog.getByRole('button', { name: 'Create policy' }).click();
    const policyDialog = page.getByRole('dialog', { name: 'Create policy' });
    await policyDialog.getByLabel('Policy name').fill('Line A policy');
    await policyDialog.getByRole('button', { name: 'Create policy' }).click();
    await dialog.getByLabel('Batch name').waitFor();
    expect(await dialog.getByLabel('Batch name').inputValue()).toBe('Line A');
    await expect.poll(() => dialog.getByLabel(field('Policy')).inputValue()).toBe('Line A policy');
    await dialog.getByRole('button', { name: 'Create batch' }).click();
    const row = page.getByTestId('batch-Line A');
    await row.waitFor();
    expect(await row.getByTestId('count-devices').innerText()).toBe('0');
    const batches = (await server.request('GET', '/api/v1/batches', { headers })).json<{
      items: { name: string; policyName: string; attributeFilter: unknown }[];
    }>();
    expect(batches.items.find((b) => b.name === 'Line A')).toMatchObject({
      policyName: 'Line A policy',
      attributeFilter: {
        operator: 'or',
        filters: [
          { name: 'board', value: 'rev-b' },
          { name: 'os', value: 'linux' },
        ],
      },
    });
  });

  it('ok/Batch: one ID, then uploads refused by the browser and by the server (nothing added), then a good one', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Line A', exact: true }).click();
    await page.getByRole('heading', { name: 'Batch Line A' }).waitFor();
    await page.getByText('No device IDs in this batch yet').waitFor();

    await page.getByLabel('Device ID', { exact: true }).fill('not-a-device');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('Not a device ID: not hexadecimal').waitFor();
    await page.getByLabel('Device ID', { exact: true }).fill(a1.toUpperCase());
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByTestId(`device-${a1}`).waitFor();

    // Bad entries: the browser names them and sends nothing.
    await pickFile(
      page,
      'Device list file',
      'bad.json',
      JSON.stringify({ devices: [a2, 'zz-top', a2] }),
    );
    await page.getByRole('button', { name: 'Upload' }).click();
    const problems = page.getByTestId('upload-problems');
    await problems.waitFor();
    expect(await problems.innerText()).toMatch(/2\s+zz-top\s+not hexadecimal/);
    expect(await problems.innerText()).toContain('duplicate of entry 1');
    expect(uploads).toEqual([]);

    // An ID registered in another batch: only the server knows; it refuses the whole list.
    await pickFile(
      page,
      'Device list file',
      'clash.json',
      JSON.stringify({ devices: [a2, other] }),
    );
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByText('1 of 2 entries cannot be added; nothing was added').waitFor();
    expect(await problems.innerText()).toMatch(
      new RegExp(`2\\s+${other}\\s+already in batch "Line B"`),
    );
    expect(uploads).toHaveLength(1);
    await admin.screenshot('batch-upload-refused');
    expect(await page.getByTestId('batch-devices').innerText()).toBe('1');

    // A good list: new IDs added, the one already here counted and left alone.
    await pickFile(
      page,
      'Device list file',
      'good.json',
      JSON.stringify({ devices: [a2, a3, a4, a1] }),
    );
    // The request is held for a moment on its way, as a slow link would: progress shows.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/devices/upload', async (route) => {
      await held;
      await route.continue();
    });
    try {
      await page.getByRole('button', { name: 'Upload' }).click();
      await page
        .getByRole('status')
        .getByText(/(Sending|checking and registering) 4 device IDs/)
        .waitFor();
      // At 0 % the bar has no width yet; it is there, named, with its value.
      const bar = page.getByRole('progressbar', { name: 'Upload progress' });
      await bar.waitFor({ state: 'attached' });
      expect(await bar.getAttribute('aria-valuenow')).toMatch(/^\d+$/);
    } finally {
      release();
    }
    await page.getByText('3 device IDs added, 1 were already in this batch.').waitFor();
    await page.unroute('**/devices/upload');
    expect(await page.getByRole('status').count()).toBe(0);
    await expect.poll(() => page.getByTestId('batch-devices').innerText()).toBe('4');
    await page.getByTestId(`device-${a4}`).waitFor();
    expect(await page.getByTestId('devices-shown').innerText()).toBe('1–4 of 4');

    // A never-enrolled device can be taken out.
    await page.getByRole('button', { name: `Remove device ${a4}` }).click();
    await page
      .getByRole('dialog', { name: 'Remove device ID' })
      .getByRole('button', { name: 'Remove' })
      .click();
    await expect.poll(() => page.getByTestId('batch-devices').innerText()).toBe('3');
    await expect.poll(() => page.getByTestId(`device-${a4}`).count()).toBe(0);
    await admin.screenshot('batch');
    expect(
      unexpectedProblems(admin.problems, [
        SIGNED_OUT_PROBE,
        /status of 409/,
        /status of 400 .*\/devices\/upload$/,
      ]),
    ).toEqual([]);
  });

  it('ok/the counts reach the Devices table and the dashboard', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'All batches' }).click();
    const row = page.getByTestId('batch-Line A');
    await expect.poll(() => row.getByTestId('count-devices').innerText()).toBe('3');
    expect(await row.getByTestId('count-enrolled').innerText()).toBe('0');
    expect(await page.getByTestId('batch-Line B').getByTestId('count-devices').innerText()).toBe(
      '1',
    );
    await admin.screenshot('devices');
    await page
      .getByRole('navigation', { name: 'Areas' })
      .getByRole('link', { name: 'Dashboard' })
      .click();
    await expect
      .poll(() => page.getByTestId('devices-total').textContent())
      .toBe('4 devices in total, 4 not enrolled yet');
  });

  it('fail/a policy a batch uses is not deleted: the server says which batch', async () => {
    const { page } = admin;
    await page
      .getByRole('navigation', { name: 'Areas' })
      .getByRole('link', { name: 'Policies' })
      .click();
    await page.getByRole('button', { name: 'Delete Line A policy' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete policy' });
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await dialog
      .getByText('policy "Line A policy" is used by batch "Line A"', { exact: false })
      .waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.getByTestId('policy-Line A policy').waitFor();

    // A batch with devices that never enrolled can be deleted; its policy then can be too.
    await page
      .getByRole('navigation', { name: 'Areas' })
      .getByRole('link', { name: 'Devices' })
      .click();
    await page.getByRole('button', { name: 'Delete Line A' }).click();
    await page
      .getByRole('dialog', { name: 'Delete batch' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await expect.poll(() => page.getByTestId('batch-Line A').count()).toBe(0);
    await page
      .getByRole('navigation', { name: 'Areas' })
      .getByRole('link', { name: 'Policies' })
      .click();
    await page.getByRole('button', { name: 'Delete Line A policy' }).click();
    await page
      .getByRole('dialog', { name: 'Delete policy' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await expect.poll(() => page.getByTestId('policy-Line A policy').count()).toBe(0);
    expect(
      unexpectedProblems(admin.problems, [
        SIGNED_OUT_PROBE,
        /status of 409/,
        /status of 400 .*\/devices\/upload$/,
      ]),
    ).toEqual([]);
  });
});
