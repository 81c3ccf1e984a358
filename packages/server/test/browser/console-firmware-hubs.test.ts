import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { EnrolResponse } from '@trustlink/protocol';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPem } from '../../src/pki/certificate-builder.js';
import {
  launchBrowser,
  rootPin,
  unexpectedProblems,
  type ConsolePage,
} from '../../src/test-helpers/browser.js';
import {
  devicePost,
  enrolBody,
  register,
  testDevice,
  tlsAs,
  type TestDevice,
} from '../../src/test-helpers/test-devices.js';
import { createTestUsers, type TestPrincipal } from '../../src/test-helpers/test-auth.js';
import { firmwareApi } from '../../src/test-helpers/test-firmware.js';
import { startTestServer, type TestServer } from '../../src/test-helpers/test-server.js';
import { SIGNED_OUT_PROBE, signInAs } from './console-flows.js';

/** Clicks and returns the bytes of the file the browser downloads, with its suggested name. */
async function download(page: Page, button: Locator): Promise<{ name: string; body: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return { name: dl.suggestedFilename(), body: readFileSync((await dl.path())!) };
}

/** The names of the files in a zip (unzip's listing). */
function zipEntries(zip: Buffer, dir: string): string[] {
  const file = `${dir}/t-${Date.now()}.zip`;
  execFileSync('sh', ['-c', `cat > ${file}`], { input: zip });
  return execFileSync('zipinfo', ['-1', file]).toString().trim().split('\n');
}

/**
 * What the administrator's browser is expected to log along the way (it records every HTTP error
 * answer): refusals the tests provoke on purpose.
 */
const EXPECTED = [
  SIGNED_OUT_PROBE,
  /status of 409 /,
  /status of 400 .*\/api\/v1\/hubs$/,
  /status of 400 .*\/api\/v1\/firmware\?/,
];

/** expect.poll's default of one second is too short on a loaded machine. */
const POLL = { timeout: 15_000 };

const menuLink = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Areas' }).getByRole('link', { name, exact: true });

// Firmwares, IoT Hubs, a device's page and the Terminal against the real server (SQLite): an
// image uploaded with a real progress bar, filtered by attributes, assigned to a batch and its
// rollout followed while a real enrolled device reports; an MQTT hub made in its form with a tool
// whose zip is downloaded; a device revoked from its page; a serial console on a stand-in port;
// and a contributor who reads all of it without the administrator's controls.
describe('console: firmware, IoT hubs, device page and terminal in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let base: string;
  let admin: ConsolePage;
  let adminHeaders: Record<string, string>;
  /** An administrator for setting things up through the API. */
  let apiAdmin: TestPrincipal;
  let fw: ReturnType<typeof firmwareApi>;
  let batchId: string;
  let device: TestDevice;
  let deviceCertPem: string;
  const dir = execFileSync('mktemp', ['-d']).toString().trim();

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    base = `https://127.0.0.1:${new URL(server.managementUrl).port}`;
    browser = await launchBrowser([rootPin(server.rootPem)]);
    const signedIn = await signInAs(server, browser, base, 'administrator', 'ops-admin');
    admin = signedIn.console;
    adminHeaders = signedIn.headers;
    ({ admin: apiAdmin } = await createTestUsers(server));
    // A batch with one device that enrols for real over the device API.
    fw = firmwareApi(server, apiAdmin);
    batchId = await fw.batch('Line B');
    device = await testDevice('P-256');
    await register(server, apiAdmin, batchId, device.deviceId);
    const enrolled = await devicePost(server, '/device/v1/enrol', enrolBody(device), tlsAs(device));
    expect(enrolled.status).toBe(200);
    deviceCertPem = toPem(Buffer.from(enrolled.json<EnrolResponse>().certificate, 'base64url'));
    await fw.signingKey('Line B key', 'P-256');
  });
  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await server?.close();
    execFileSync('rm', ['-rf', dir]);
  });

  it('ok/Firmwares: add with progress, refused names, filter AND/OR, edit, assign, rollout, delete', async () => {
    const { page } = admin;
    await menuLink(page, 'Firmwares').click();
    await page.getByText('No firmware yet').waitFor();

    // The form refuses what the server would, before anything is sent.
    let uploads = 0;
    await page.route('**/api/v1/firmware?*', async (route) => {
      if (route.request().method() === 'POST') uploads++;
      await route.continue();
    });
    await page.getByRole('button', { name: 'Add firmware' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add firmware' });
    await dialog.getByLabel(/^Firmware name/).fill('gateway/main');
    await dialog.getByLabel(/^Version/).fill('2.1.0');
    await dialog.getByLabel(/^Security version/).fill('3');
    await dialog.getByLabel('Description').fill('Gateway image for board rev B');
    await dialog.getByRole('button', { name: 'Add attribute' }).click();
    await dialog.getByLabel('Attribute 1 name').fill('board');
    await dialog.getByLabel('Attribute 1 value').fill('rev-b');
    await dialog.getByRole('button', { name: 'Add attribute' }).click();
    await dialog.getByLabel('Attribute 2 name').fill('board');
    await dialog.getByLabel('Attribute 2 value').fill('rev-c');
    const image = Buffer.alloc(1536 * 1024, 0x5a);
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      dialog.getByLabel(/^Image file/).click(),
    ]);
    await chooser.setFiles({
      name: 'gateway.bin',
      mimeType: 'application/octet-stream',
      buffer: image,
    });
    await dialog.getByRole('button', { name: 'Upload firmware' }).click();
    await dialog
      .getByText('Name may hold letters, digits, spaces, dot, plus, underscore and hyphen.')
      .waitFor();
    await dialog.getByText('attribute board is there twice').waitFor();
    expect(uploads).toBe(0);
    await dialog.getByLabel(/^Firmware name/).fill('Gateway main');
    await dialog.getByLabel('Attribute 2 name').fill('chip');
    await dialog.getByLabel('Attribute 2 value').fill('esp32');

    // The upload goes through a link slowed to 512 KiB/s: the bar moves as bytes leave.
    const cdp = await admin.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 512 * 1024,
    });
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { progressSeen: number[] }).progressSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector('[role="progressbar"][aria-label="Upload progress"]');
        const v = Number(bar?.getAttribute('aria-valuenow'));
        if (bar && seen[seen.length - 1] !== v) seen.push(v);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await dialog.getByRole('button', { name: 'Upload firmware' }).click();
    await dialog.getByTestId('firmware-upload-progress').waitFor();
    const row = page.getByTestId('firmware-Gateway main');
    await row.waitFor({ timeout: 30_000 });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    const seen = await page.evaluate(
      () => (window as unknown as { progressSeen: number[] }).progressSeen,
    );
    expect(
      seen.some((v) => v > 0 && v < 100),
      `progress seen: ${seen.join(',')}`,
    ).toBe(true);
    expect(uploads).toBe(1);
    expect(await row.innerText()).toMatch(
      /Gateway main[\s\S]*version 2\.1\.0 · security 3[\s\S]*1\.5 MiB[\s\S]*none yet[\s\S]*board = rev-b[\s\S]*chip = esp32/,
    );

    // A second image, uploaded through the API, for the filter.
    await fw.upload(
      'name=Gateway+legacy&version=1.0.0&attr=board:rev-a&attr=chip:esp32',
      Buffer.alloc(4096, 1),
    );
    await page.reload();
    await page.getByTestId('firmware-Gateway legacy').waitFor();

    // A taken name: the server's answer, beside the name.
    await page.getByRole('button', { name: 'Add firmware' }).click();
    await dialog.getByLabel(/^Firmware name/).fill('Gateway legacy');
    await dialog.getByLabel(/^Version/).fill('1.0.1');
    const [again] = await Promise.all([
      page.waitForEvent('filechooser'),
      dialog.getByLabel(/^Image file/).click(),
    ]);
    await again.setFiles({
      name: 'legacy.bin',
      mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(10, 2),
    });
    await dialog.getByRole('button', { name: 'Upload firmware' }).click();
    await dialog.getByText('firmware named "Gateway legacy" already exists').waitFor();
    // A .hex file is sent as Intel HEX; the server checks it line by line and says where.
    await dialog.getByLabel(/^Firmware name/).fill('Gateway hex');
    const [hex] = await Promise.all([
      page.waitForEvent('filechooser'),
      dialog.getByLabel(/^Image file/).click(),
    ]);
    await hex.setFiles({
      name: 'broken.hex',
      mimeType: 'text/plain',
      buffer: Buffer.from(':0400000001020304F3\n:00000001FF\n'),
    });
    expect(await dialog.getByRole('radio', { name: 'Intel HEX' }).isChecked()).toBe(true);
    await dialog.getByRole('button', { name: 'Upload firmware' }).click();
    await dialog.getByText(/^Intel HEX line 1: .*; nothing was stored$/).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // Filter: AND narrows to one image, OR widens to both.
    await page.getByRole('button', { name: /^Filter( \(\d+\))?$/ }).click();
    const filter = page.getByRole('region', { name: 'Filter firmware' });
    await filter.getByLabel('Filter 1 name').fill('board');
    await filter.getByLabel('Filter 1 value').fill('rev-b');
    await filter.getByRole('button', { name: 'Add filter' }).click();
    await filter.getByLabel('Filter 2 name').fill('chip');
    await filter.getByLabel('Filter 2 value').fill('esp32');
    await filter.getByRole('button', { name: 'Set filter' }).click();
    await page.getByTestId('firmware-Gateway legacy').waitFor({ state: 'detached' });
    await page.getByTestId('firmware-Gateway main').waitFor();
    await filter.getByText('Any (OR)').click();
    await filter.getByLabel('Filter 1 value').fill('rev-z');
    await filter.getByRole('button', { name: 'Set filter' }).click();
    await page.getByTestId('firmware-Gateway legacy').waitFor();
    await page.getByTestId('firmware-Gateway main').waitFor();
    await filter.getByLabel('Filter 2 value').fill('nrf52');
    await filter.getByRole('button', { name: 'Set filter' }).click();
    await page.getByText('No firmware matches the filter').waitFor();
    await filter.getByRole('button', { name: 'Clear filter' }).click();
    await page.getByTestId('firmware-Gateway legacy').waitFor();
    await page.getByRole('button', { name: /^Filter( \(\d+\))?$/ }).click();

    // Edit: the description changes; the image stays.
    await page.getByRole('button', { name: 'Edit Gateway main' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit firmware Gateway main' });
    await edit.getByLabel('Description').fill('Gateway image, rev B boards');
    await edit.getByRole('button', { name: 'Save firmware' }).click();
    await row.getByText('Gateway image, rev B boards').waitFor();

    // Assign to the batch with a signing key: the rollout of the batch starts.
    await page.getByRole('button', { name: 'Assign Gateway main to a batch' }).click();
    const assign = page.getByRole('dialog', { name: 'Assign firmware to a batch' });
    await assign.getByRole('combobox', { name: /^Batch/ }).click();
    await page.getByRole('option', { name: 'Line B' }).click();
    await assign.getByRole('combobox', { name: /^Signing key/ }).click();
    await page.getByRole('option', { name: 'Line B key (P-256)' }).click();
    await assign.getByRole('button', { name: 'Assign and start update' }).click();
    const rollout = page.getByTestId(`rollout-${batchId}`);
    await rollout.getByText('0 of 1 installed (1 pending).').waitFor();
    await row.getByText('Line B key').waitFor();

    // The device hears of the update at check-in and reports it installed.
    const asDevice = tlsAs(device, deviceCertPem);
    const status = await server.deviceRequest('GET', '/device/v1/status', asDevice);
    const update = status.json<{ update?: { id: string } }>().update!;
    const report = await server.deviceRequest('POST', `/device/v1/updates/${update.id}/report`, {
      ...asDevice,
      body: { status: 'installed', at: new Date().toISOString() },
    });
    expect(report.status).toBeLessThan(300);
    await page.reload();
    await rollout.getByText('1 of 1 installed.').waitFor();
    await rollout.getByRole('link', { name: `Device ${device.deviceId}` }).waitFor();
    await admin.screenshot('firmware');

    // Deleting assigned firmware: the server says why not; the other one goes.
    await page.getByRole('button', { name: 'Delete Gateway main' }).click();
    const del = page.getByRole('dialog', { name: 'Delete firmware' });
    await del.getByRole('button', { name: 'Delete' }).click();
    await del.getByText('firmware "Gateway main" is assigned to a batch').waitFor();
    await del.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Delete Gateway legacy' }).click();
    await del.getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('firmware-Gateway legacy').waitFor({ state: 'detached' });
    await page.unroute('**/api/v1/firmware?*');

    // From a batch with an attribute filter: only firmware that fits is offered.
    const filtered = await fw.batch('Line A2', [{ name: 'board', value: 'rev-a' }]);
    await fw.upload('name=Board+A+image&version=0.9.0&attr=board:rev-a', Buffer.alloc(2048, 3));
    await page.goto(`/devices/${filtered}`);
    await page.getByRole('button', { name: 'Assign firmware' }).click();
    const forBatch = page.getByRole('dialog', { name: 'Firmware for batch Line A2' });
    await forBatch
      .getByText("Firmware whose attributes match the batch's filter: board = rev-a.")
      .waitFor();
    await forBatch.getByRole('combobox', { name: /^Firmware/ }).click();
    const options = page.getByRole('listbox').getByRole('option');
    await expect.poll(() => options.allInnerTexts(), POLL).toEqual(['Board A image 0.9.0']);
    await options.first().click();
    await forBatch.getByRole('combobox', { name: /^Signing key/ }).click();
    await page.getByRole('option', { name: 'Line B key (P-256)' }).click();
    await forBatch.getByRole('button', { name: 'Assign and start update' }).click();
    await page
      .getByTestId(`rollout-${filtered}`)
      .getByText('The batch has no enrolled device to update yet.')
      .waitFor();
    await page.getByRole('button', { name: 'Change firmware' }).waitFor();
    expect(unexpectedProblems(admin.problems, EXPECTED)).toEqual([]);
  });

  it('ok/IoT Hubs: MQTT hub in its form, Mosquitto refused by the server, tools with zips, dashboard tile', async () => {
    const { page } = admin;
    await menuLink(page, 'IoT Hubs').click();
    await page.getByText('No IoT hubs yet').waitFor();
    await page.getByRole('button', { name: 'Create IoT hub' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create IoT hub' });
    await dialog.getByLabel(/^IoT hub name/).fill('Plant broker');
    const devicePublish = dialog.getByLabel('Devices may publish to');
    await devicePublish.fill('devices/{clientId}/#\ntelemetry/#/raw');
    await dialog.getByRole('button', { name: 'Create IoT hub' }).click();
    await dialog
      .getByText(`topic filter "telemetry/#/raw" '#' may only be the last level`)
      .waitFor();
    await devicePublish.fill('devices/{clientId}/#\ntelemetry/{clientId}');
    await dialog.getByRole('button', { name: 'Create IoT hub' }).click();
    const row = page.getByTestId('hub-Plant broker');
    await row.waitFor();
    expect(await row.innerText()).toMatch(/MQTT \(embedded broker\)/);
    await row.getByText(/^(reachable|unreachable)$/).waitFor();

    // Mosquitto: this server has no managed root, and says so beside the directory.
    await page.getByRole('button', { name: 'Create IoT hub' }).click();
    await dialog.getByLabel(/^IoT hub name/).fill('Line Mosquitto');
    await dialog.getByRole('combobox', { name: 'IoT hub type' }).click();
    await page.getByRole('option', { name: 'Mosquitto (managed)' }).click();
    await dialog.getByLabel(/^Host/).fill('https://broker');
    await dialog.getByLabel(/^Managed directory/).fill('line-1');
    await dialog.getByRole('button', { name: 'Create IoT hub' }).click();
    await dialog
      .getByText('Host must be a host name or an IP address (no scheme, port or path).')
      .waitFor();
    await dialog.getByLabel(/^Host/).fill('127.0.0.1');
    await dialog.getByRole('button', { name: 'Create IoT hub' }).click();
    await dialog.getByText('managed Mosquitto is off').waitFor();
    await dialog
      .getByText(/Mosquitto hubs need the operator to set mosquittoManagedRoot/)
      .waitFor();
    await admin.screenshot('hub-form-refused');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // A tool: credentials made here, the zip with the key downloaded once; again without it.
    await row.getByRole('button', { name: 'Tools of Plant broker' }).click();
    const tools = page.getByRole('region', { name: 'Tools of Plant broker' });
    await tools.getByText('No tools yet. Add one above').waitFor();
    await tools.getByLabel(/^Tool name/).fill('Node-RED line 1');
    await tools.getByRole('button', { name: 'Add tool' }).click();
    const clientId = await tools.getByTestId('tool-client-id').innerText();
    expect(clientId).toMatch(/^tool-/);
    const first = await download(
      page,
      tools.getByRole('button', { name: 'Download Node-RED_line_1.zip' }),
    );
    expect(first.name).toBe('Node-RED_line_1.zip');
    expect(zipEntries(first.body, dir)).toEqual(
      expect.arrayContaining(['client.key', 'client.crt']),
    );
    await tools.getByRole('button', { name: 'Done' }).click();
    const toolRow = tools.getByTestId('tool-Node-RED line 1');
    expect(await toolRow.innerText()).toContain(clientId);
    const again = await download(
      page,
      toolRow.getByRole('button', { name: 'Download the zip of Node-RED line 1' }),
    );
    const entries = zipEntries(again.body, dir);
    expect(entries).toContain('client.crt');
    expect(entries).not.toContain('client.key');
    await page.mouse.move(0, 0);
    await admin.screenshot('hubs');
    await toolRow.getByRole('button', { name: 'Remove tool Node-RED line 1' }).click();
    await page
      .getByRole('dialog', { name: 'Remove tool' })
      .getByRole('button', { name: 'Remove' })
      .click();
    await tools.getByText('No tools yet. Add one above').waitFor();

    // Edit keeps the type; a policy that uses the hub keeps it from deletion.
    await row.getByRole('button', { name: 'Edit Plant broker' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit IoT hub Plant broker' });
    expect(await edit.getByRole('combobox', { name: 'IoT hub type' }).isDisabled()).toBe(true);
    await edit.getByLabel('Tools may subscribe to').fill('devices/+/status');
    await edit.getByRole('button', { name: 'Save IoT hub' }).click();
    await page.getByText('IoT hub Plant broker is saved.').waitFor();
    const hubs = await server.request('GET', '/api/v1/hubs', { headers: adminHeaders });
    const hub = hubs.json<{
      items: { id: string; settings: { rules: { tool: { subscribe: string[] } } } }[];
    }>().items[0]!;
    expect(hub.settings.rules.tool.subscribe).toEqual(['devices/+/status']);
    // A policy made in its form onboards its devices to the hub, chosen by name.
    await menuLink(page, 'Policies').click();
    await page.getByRole('button', { name: 'Create policy' }).click();
    const policyForm = page.getByRole('dialog', { name: 'Create policy' });
    await policyForm.getByLabel('Policy name').fill('Plant policy');
    await policyForm.getByRole('combobox', { name: 'IoT hub' }).click();
    await page.getByRole('option', { name: 'Plant broker (MQTT (embedded broker))' }).click();
    await policyForm.getByRole('button', { name: 'Create policy' }).click();
    await page.getByTestId('policy-Plant policy').waitFor();
    const policies = await server.request('GET', '/api/v1/policies', { headers: adminHeaders });
    expect(
      policies.json<{ items: { name: string; hubId: string | null }[] }>().items,
    ).toContainEqual(expect.objectContaining({ name: 'Plant policy', hubId: hub.id }));
    await menuLink(page, 'IoT Hubs').click();
    await row.getByRole('button', { name: 'Delete Plant broker' }).click();
    const del = page.getByRole('dialog', { name: 'Delete IoT hub' });
    await del.getByRole('button', { name: 'Delete' }).click();
    await del.getByText(/Plant policy/).waitFor();
    await del.getByRole('button', { name: 'Close' }).click();

    // The dashboard tile says how many hubs answer, as the server counts them.
    const status = (
      await server.request('GET', '/api/v1/hubs/status', { headers: adminHeaders })
    ).json<{ reachable: number; total: number }>();
    await menuLink(page, 'Dashboard').click();
    const tile = page.getByTestId('status-hubs');
    await tile.getByText(`${status.reachable} of 1`).waitFor();
    await tile.hover();
    await page
      .getByRole('tooltip')
      .getByText(/Plant broker: (answers|fails)/)
      .waitFor();
    expect(unexpectedProblems(admin.problems, EXPECTED)).toEqual([]);
  });

  it('ok/a device page from its batch: state, certificate download, update status; revoked with a reason', async () => {
    const { page } = admin;
    await page.goto(`/devices/${batchId}`);
    await page
      .getByRole('link', { name: `Device ${device.deviceId}` })
      .first()
      .click();
    await page.waitForURL(new RegExp(`/devices/${batchId}/${device.deviceId}$`));
    expect(await page.getByTestId('device-id').innerText()).toBe(device.deviceId);
    await page.getByTestId('fact-State').getByText('enrolled').waitFor();
    await page.getByTestId('device-update').getByText('installed', { exact: true }).waitFor();
    const serial = new X509Certificate(deviceCertPem).serialNumber.toLowerCase();
    const cert = await download(
      page,
      page.getByRole('button', { name: new RegExp(`^Download certificate 0*${serial}$`, 'i') }),
    );
    expect(new X509Certificate(cert.body).serialNumber).toBe(
      new X509Certificate(deviceCertPem).serialNumber,
    );
    await page.mouse.move(0, 0);
    await admin.screenshot('device');

    await page.getByRole('button', { name: 'Revoke device' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke device' });
    await dialog.getByRole('combobox', { name: 'Reason' }).click();
    await dialog.getByRole('option', { name: 'Key compromise' }).click();
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await page.getByTestId('fact-State').getByText('revoked').waitFor();
    await page.getByTestId('fact-State').getByText('keyCompromise').waitFor();
    expect(await page.getByRole('button', { name: 'Revoke device' }).count()).toBe(0);
    const api = await server.request('GET', `/api/v1/devices/${device.deviceId}`, {
      headers: adminHeaders,
    });
    expect(api.json<{ state: string; certificates: { status: string }[] }>()).toMatchObject({
      state: 'revoked',
      certificates: [{ status: 'revoked' }],
    });
    expect(unexpectedProblems(admin.problems, EXPECTED)).toEqual([]);
  });

  it('ok/Terminal: baud rate, connect, send with CR/LF, search, copy, auto-scroll, clear, disconnect', async () => {
    const { page, context } = admin;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    // A stand-in serial port: calling the real chooser without a person closes headless pages.
    // It records how it was opened and what was written, and echoes writes back as a device
    // console does; the test pushes device output with emit().
    await page.addInitScript(() => {
      const log = { opened: [] as number[], written: [] as string[], closed: 0 };
      let push: (text: string) => void = () => {};
      class FakePort {
        readable: ReadableStream<Uint8Array> | null = null;
        writable: WritableStream<Uint8Array> | null = null;
        async open(o: { baudRate: number }) {
          log.opened.push(o.baudRate);
          let ctrl!: ReadableStreamDefaultController<Uint8Array>;
          this.readable = new ReadableStream<Uint8Array>({ start: (c) => void (ctrl = c) });
          push = (t) => ctrl.enqueue(new TextEncoder().encode(t));
          this.writable = new WritableStream<Uint8Array>({
            write: (chunk) => {
              log.written.push(new TextDecoder().decode(chunk));
              ctrl.enqueue(chunk);
            },
          });
          push('ESP-ROM:esp32s3\r\nboot: trustlink agent 1.4\r\nready>\r\n');
        }
        async close() {
          this.readable = null;
          this.writable = null;
          log.closed++;
        }
      }
      Object.defineProperty(navigator, 'serial', {
        configurable: true,
        value: { requestPort: async () => new FakePort() },
      });
      Object.assign(window, { serialLog: log, emit: (t: string) => push(t) });
    });
    await page.goto('/terminal');
    const out = page.getByRole('log', { name: 'Serial output' });
    await page.getByRole('combobox', { name: 'Baud rate' }).click();
    await page.getByRole('option', { name: '9600', exact: true }).click();
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByTestId('serial-status').getByText('connected at 9600').waitFor();
    await out.getByText(/boot: trustlink agent 1\.4/).waitFor();
    const log = () =>
      page.evaluate(
        () =>
          (
            window as unknown as {
              serialLog: { opened: number[]; written: string[]; closed: number };
            }
          ).serialLog,
      );
    expect((await log()).opened).toEqual([9600]);

    // A line goes out with CR LF, then with LF alone; the device's echo shows.
    await page.getByLabel('Send').fill('status');
    await page.getByLabel('Send').press('Enter');
    await page.getByLabel('Add CR').uncheck();
    await page.getByLabel('Send').fill('help');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await expect.poll(async () => (await log()).written, POLL).toEqual(['status\r\n', 'help\n']);
    await out.getByText(/help/).waitFor();

    // Search marks every match and counts them.
    await page.getByLabel('Search').fill('BOOT');
    await expect.poll(() => page.getByTestId('search-count').innerText(), POLL).toBe('1 of 1');
    expect(await out.locator('mark').allInnerTexts()).toEqual(['boot']);
    await page.getByLabel('Search').fill('');

    // Copy puts the whole buffer on the clipboard.
    await page.getByRole('button', { name: 'Copy terminal text' }).click();
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    expect(clip).toBe(await out.innerText());
    expect(clip).toContain('ready>\nstatus\nhelp\n');

    // Auto-scroll follows new output; off, the view stays where the user put it.
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i}\r\n`).join('');
    await page.evaluate((t) => (window as unknown as { emit: (t: string) => void }).emit(t), lines);
    await out.getByText(/line 199/).waitFor();
    const atBottom = () =>
      out.evaluate((el) => Math.abs(el.scrollHeight - el.clientHeight - el.scrollTop) < 4);
    await expect.poll(atBottom, POLL).toBe(true);
    await page.getByLabel('Auto-scroll').uncheck();
    await out.evaluate((el) => (el.scrollTop = 0));
    await page.evaluate(() =>
      (window as unknown as { emit: (t: string) => void }).emit('late output\r\n'),
    );
    await out.getByText(/late output/).waitFor();
    expect(await out.evaluate((el) => el.scrollTop)).toBe(0);
    await page.getByLabel('Auto-scroll').check();
    await page.getByLabel('Search').fill('line 19');
    await expect.poll(() => page.getByTestId('search-count').innerText(), POLL).toBe('1 of 11');
    await admin.screenshot('terminal');

    await page.getByRole('button', { name: 'Clear terminal' }).click();
    await expect.poll(() => out.innerText(), POLL).toMatch(/^Waiting for the device/);
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByTestId('serial-status').getByText('not connected').waitFor();
    expect((await log()).closed).toBe(1);
    expect(unexpectedProblems(admin.problems, EXPECTED)).toEqual([]);
  });

  it('ok/a contributor reads firmware, hubs, tools and devices without the administrator controls', async () => {
    const { console: c, headers } = await signInAs(
      server,
      browser,
      base,
      'contributor',
      'ops-contributor',
    );
    try {
      const { page } = c;
      await menuLink(page, 'Firmwares').click();
      const row = page.getByTestId('firmware-Gateway main');
      await row.waitFor();
      expect(await page.getByRole('button', { name: 'Add firmware' }).count()).toBe(0);
      expect(await row.getByRole('button').count()).toBe(0);
      await page.getByTestId(`rollout-${batchId}`).waitFor();
      expect(await page.getByRole('button', { name: /^End update/ }).count()).toBe(0);
      await c.screenshot('contributor-firmware');
      // The server refuses an upload to a contributor anyway.
      const refused = await server.request('POST', '/api/v1/firmware?name=x&version=1', {
        headers: { ...headers, 'content-type': 'application/octet-stream' },
        body: Buffer.from('x'),
      });
      expect(refused.status).toBe(403);

      await menuLink(page, 'IoT Hubs').click();
      const hub = page.getByTestId('hub-Plant broker');
      await hub.waitFor();
      expect(await page.getByRole('button', { name: 'Create IoT hub' }).count()).toBe(0);
      expect(await hub.getByRole('button', { name: /^(Edit|Delete)/ }).count()).toBe(0);
      await hub.getByRole('button', { name: 'Tools of Plant broker' }).click();
      const tools = page.getByRole('region', { name: 'Tools of Plant broker' });
      await tools.getByText('No tools yet. An administrator adds them.').waitFor();
      expect(await tools.getByRole('button', { name: 'Add tool' }).count()).toBe(0);
      await c.screenshot('contributor-hubs');

      await page.goto(`/devices/${batchId}`);
      await page.getByTestId(`rollout-${batchId}`).waitFor();
      expect(await page.getByRole('button', { name: /(Assign|Change) firmware/ }).count()).toBe(0);
      await page.goto(`/devices/${batchId}/${device.deviceId}`);
      await page.getByTestId('fact-State').getByText('revoked').waitFor();
      await menuLink(page, 'Terminal').click();
      await page.getByRole('button', { name: 'Connect' }).waitFor();
      expect(unexpectedProblems(c.problems, [SIGNED_OUT_PROBE])).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
