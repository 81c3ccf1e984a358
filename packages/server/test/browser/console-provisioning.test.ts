import { randomBytes } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  decodeProvisioningConfig,
  formatIdentityLine,
  PROVISIONING_CONFIG_OFFSET,
} from '@trustlink/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyEsp32SecureBootV2 } from '../../src/firmware/esp32-sbv2-fns.js';
import { esp32KeyDigest } from '../../src/firmware/esp32-sbv2-key-fns.js';
import type { FlashPlan } from '../../src/provisioning/provisioning-types.js';
import {
  launchBrowser,
  rootPin,
  unexpectedProblems,
  type ConsolePage,
} from '../../src/test-helpers/browser.js';
import { installFakeSerial, type FakeSerial } from '../../src/test-helpers/fake-web-serial.js';
import { createTestUsers, type TestPrincipal } from '../../src/test-helpers/test-auth.js';
import { deviceKey } from '../../src/test-helpers/test-csr.js';
import { firmwareApi } from '../../src/test-helpers/test-firmware.js';
import { startTestServer, type TestServer } from '../../src/test-helpers/test-server.js';
import { SIGNED_OUT_PROBE, signInAs } from './console-flows.js';

const field = (label: string) => new RegExp(`^${label}\\s*\\*?$`);
const POLL = { timeout: 30_000 };
const WIFI = { ssid: 'Factory-2.4G', password: 'line-3-wifi-Qx81' };
const DOCS_SCREENSHOTS = fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url));
/** The refusals the test provokes on purpose. */
const EXPECTED = [
  SIGNED_OUT_PROBE,
  /status of 400 .*\/api\/v1\/provisioning-tasks$/,
  /status of 400 .*\/runs\/[^/]+\/identity$/,
];

async function choose(
  page: Page,
  dialog: ReturnType<Page['getByRole']>,
  label: string,
  option: string,
) {
  await dialog.getByRole('combobox', { name: field(label) }).click();
  await page.getByRole('option', { name: option }).click();
}

// The Provisioning screen against the real server (SQLite) and an emulated ESP32 on a fake Web
// Serial port: a task refused by the server then created, a run that flashes the signed images
// and the config blob through esptool-js and registers the device the emulator "boots", and
// two failures (the board unplugged mid-write, a bad identity) that add nothing.
describe('console: Provisioning in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let base: string;
  let admin: ConsolePage;
  let api: TestPrincipal;
  let serial: FakeSerial;
  let fa: ReturnType<typeof firmwareApi>;
  let rsaSpki: Buffer;
  const batches = { signed: '', plain: '' };
  /** The device the first run provisioned, which the runs list shows. */
  let provisioned = '';

  const devicesOf = async (batchId: string) =>
    (await server.request('GET', `/api/v1/batches/${batchId}/devices`, { headers: api.headers }))
      .json<{ items: { id: string }[] }>()
      .items.map((d) => d.id);
  const auditActions = async () =>
    (
      await server.request('GET', '/api/v1/audit?q=provisioning.run&limit=100', {
        headers: api.headers,
      })
    ).json<{ entries: { action: string; details: Record<string, unknown> }[] }>().entries;

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    base = `https://127.0.0.1:${new URL(server.managementUrl).port}`;
    browser = await launchBrowser([rootPin(server.rootPem)]);
    ({ admin: api } = await createTestUsers(server));
    fa = firmwareApi(server, api);
    await fa.upload('name=Bootloader&version=5.3&format=esp32-sbv2', randomBytes(20_000));
    await fa.upload('name=Partitions&version=1', randomBytes(3072));
    await fa.upload('name=Sensor IEF&version=1.0&format=esp32-sbv2', randomBytes(60_001));
    const app = await fa.upload('name=Sensor app&version=2.0&format=esp32-sbv2', randomBytes(1000));
    batches.signed = await fa.batch('Line 1');
    batches.plain = await fa.batch('Bench');
    const rsa = await fa.signingKey('Release RSA', 'RSA-3072');
    rsaSpki = rsa.spki;
    expect((await fa.assign(batches.signed, app.id, rsa.id)).status).toBe(200);
    admin = (await signInAs(server, browser, base, 'administrator', 'prov-admin')).console;
    serial = await installFakeSerial(admin.page);
  }, 120_000);
  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await server?.close();
  });

  it('ok/create a task (the server refuses one first), run it: signed images and config flashed, device ID in the batch', async () => {
    const { page } = admin;
    await page.goto('/provisioning');
    await page.getByText('No provisioning tasks yet').waitFor();
    await page.getByRole('button', { name: 'New task' }).click();
    const dialog = page.getByRole('dialog', { name: 'New task' });
    await dialog.getByLabel(field('Task name')).fill('Sensor line');
    await dialog.getByRole('radio', { name: 'Release' }).check();
    await choose(page, dialog, 'Bootloader image', 'Bootloader (5.3)');
    await choose(page, dialog, 'Partition table', 'Partitions (1)');
    await choose(page, dialog, 'Initial enrolment firmware', 'Sensor IEF (1.0)');
    await choose(page, dialog, 'Batch', 'Bench');
    await dialog.getByRole('button', { name: 'Create task' }).click();
    // A release bootloader on a batch without a signing key: the server's words, by the field.
    await dialog.getByText(/batch "Bench" has no signing key/).waitFor();
    await admin.screenshot('provisioning-task-refused');
    await choose(page, dialog, 'Batch', 'Line 1');
    await dialog.getByRole('button', { name: 'Create task' }).click();
    const row = page.getByTestId('task-Sensor line');
    await row.waitFor();
    expect(await row.innerText()).toMatch(/Sensor line\s+ESP32\s+Release\s+Sensor IEF\s+Line 1/i);
    // The screen as the docs show it.
    copyFileSync(await admin.screenshot('provisioning'), `${DOCS_SCREENSHOTS}provisioning.png`);

    const device = deviceKey('P-256');
    serial.plug({ bootLine: () => formatIdentityLine(device.spkiDer) });
    await row.getByRole('button', { name: 'Run Sensor line' }).click();
    const run = page.getByRole('dialog', { name: 'Run Sensor line' });
    await run.getByRole('button', { name: 'Start' }).click();
    await run.getByText('Enter the Wi-Fi network name').waitFor();
    await run.getByLabel(field('Wi-Fi network \\(SSID\\)')).fill(WIFI.ssid);
    await run.getByLabel('Wi-Fi password').fill(WIFI.password);
    const planAnswer = page.waitForResponse(
      (r) => r.request().method() === 'POST' && /\/provisioning-tasks\/[^/]+\/runs$/.test(r.url()),
    );
    await run.getByRole('button', { name: 'Start' }).click();
    const plan = (await (await planAnswer).json()) as FlashPlan;
    await run.getByText('Device provisioned').waitFor(POLL);
    expect(await run.getByTestId('provisioned-device-id').innerText()).toBe(device.deviceId);
    for (const part of ['bootloader', 'partition-table', 'config', 'ief'])
      expect(await run.getByTestId(`progress-${part}`).innerText()).toBe('100%');
    await run.getByRole('button', { name: 'Show logs' }).click();
    await run.getByText(/device: TRUSTLINK-IDENTITY v1/).waitFor();
    // Each image was checked against the MD5 the chip computed over its flash.
    const logText = await run.getByLabel('Provisioning log').innerText();
    expect(logText.match(/Hash of data verified/g)).toHaveLength(4);
    expect(logText).toMatch(/All images written and verified/);
    await admin.screenshot('provisioning-run-finished');
    provisioned = device.deviceId;

    // What the emulated chip holds is what the server planned, byte for byte (esptool-js pads
    // each image to 4 bytes with 0xFF), at the ESP32 offsets.
    const dev = serial.device;
    expect(dev.writes.map((w) => w.address)).toEqual([
      0x1000,
      0x8000,
      PROVISIONING_CONFIG_OFFSET,
      0x10000,
    ]);
    for (const img of plan.images) {
      const bytes = Buffer.from(img.data, 'base64');
      const written = dev.writes.find((w) => w.address === img.address)!.data;
      expect(written.subarray(0, bytes.length).equals(bytes), img.part).toBe(true);
      expect(written.subarray(bytes.length).every((b) => b === 0xff)).toBe(true);
    }
    const at = (address: number, size: number) => dev.flash.subarray(address, address + size);
    // Signed with the batch's release key (its eFuse digest), not just some valid key.
    const trusted = { trustedKeyDigests: [esp32KeyDigest(rsaSpki)] };
    const signedBoot = plan.images.find((i) => i.part === 'bootloader')!;
    expect(verifyEsp32SecureBootV2(at(0x1000, signedBoot.size), trusted).ok).toBe(true);
    const ief = plan.images.find((i) => i.part === 'ief')!;
    expect(verifyEsp32SecureBootV2(at(0x10000, ief.size), trusted).ok).toBe(true);
    const config = decodeProvisioningConfig(at(PROVISIONING_CONFIG_OFFSET, 4096));
    expect(config).toMatchObject({
      ok: true,
      config: { batchId: batches.signed, bootloader: 'release', wifi: WIFI },
    });

    expect(await devicesOf(batches.signed)).toEqual([device.deviceId]);
    const audit = await auditActions();
    expect(audit.map((e) => e.action)).toEqual([
      'provisioning.run.finish',
      'provisioning.run.start',
    ]);
    expect(audit[0]!.details).toMatchObject({ deviceId: device.deviceId });
    expect(JSON.stringify(audit)).not.toContain(WIFI.password);
    await run.getByRole('button', { name: 'Close' }).click();
    await run.waitFor({ state: 'hidden' });

    // The dashboard's last activity shows the run.
    await page.goto('/dashboard');
    await page.getByText('provisioning.run.finish').first().waitFor();
    expect(unexpectedProblems(admin.problems, EXPECTED)).toEqual([]);
  }, 120_000);

  it('fail/the board unplugged mid-write, and a device printing a bad identity: the reason shows, nothing is added', async () => {
    const { page } = admin;
    await page.goto('/provisioning');
    const row = page.getByTestId('task-Sensor line');
    const before = await devicesOf(batches.signed);

    serial.plug({ bootLine: () => 'never printed', unplugAfterBlocks: 3 });
    await row.getByRole('button', { name: 'Run Sensor line' }).click();
    const run = page.getByRole('dialog', { name: 'Run Sensor line' });
    await run.getByLabel(field('Wi-Fi network \\(SSID\\)')).fill(WIFI.ssid);
    await run.getByRole('button', { name: 'Start' }).click();
    await run.getByText('Provisioning failed').waitFor(POLL);
    expect(await run.getByRole('alert').innerText()).toMatch(/Nothing was added to the batch/);
    await admin.screenshot('provisioning-run-unplugged');
    await run.getByRole('button', { name: 'Close' }).click();

    // A firmware that prints a key in a non-canonical spelling (base64url): the server refuses.
    serial.plug({
      bootLine: () => `TRUSTLINK-IDENTITY v1 ${deviceKey('P-256').spkiDer.toString('base64url')}`,
    });
    await page.reload();
    await row.getByRole('button', { name: 'Run Sensor line' }).click();
    await run.getByLabel(field('Wi-Fi network \\(SSID\\)')).fill(WIFI.ssid);
    await run.getByRole('button', { name: 'Start' }).click();
    await run
      .getByRole('alert')
      .getByText(/the device printed a bad identity line: the key is not standard padded base64/)
      .waitFor(POLL);
    await run.getByRole('button', { name: 'Close' }).click();

    expect(await devicesOf(batches.signed)).toEqual(before);
    const failed = (await auditActions()).filter((e) => e.action === 'provisioning.run.fail');
    expect(failed).toHaveLength(2);
    expect(String(failed[1]!.details.reason)).not.toBe('');
    expect(unexpectedProblems(admin.problems, EXPECTED)).toEqual([]);
  }, 120_000);
  it('fail/a byte the flash did not take: verification fails, the run ends failed with that reason, nothing is added', async () => {
    const { page } = admin;
    await page.goto('/provisioning');
    const row = page.getByTestId('task-Sensor line');
    const before = await devicesOf(batches.signed);
    const device = deviceKey('P-256');
    // One byte of the partition table does not take the write.
    serial.plug({ bootLine: () => formatIdentityLine(device.spkiDer), corruptAt: 0x8000 + 100 });
    await row.getByRole('button', { name: 'Run Sensor line' }).click();
    const run = page.getByRole('dialog', { name: 'Run Sensor line' });
    await run.getByLabel(field('Wi-Fi network \\(SSID\\)')).fill(WIFI.ssid);
    await run.getByRole('button', { name: 'Start' }).click();
    await run.getByText('Provisioning failed').waitFor(POLL);
    expect(await run.getByRole('alert').innerText()).toMatch(
      /flash verification failed: the device does not hold Partitions at 0x8000 as written[^]*Nothing was added to the batch/,
    );
    // The bootloader before it verified; the console stopped at the bad image and never booted
    // the device.
    expect(serial.device.writes.map((w) => w.address)).toEqual([0x1000, 0x8000]);
    expect(serial.device.events).not.toContain('boot: flash');
    await admin.screenshot('provisioning-run-verification-failed');
    await run.getByRole('button', { name: 'Close' }).click();

    expect(await devicesOf(batches.signed)).toEqual(before);
    expect(before).not.toContain(device.deviceId);
    const failed = (await auditActions()).filter((e) => e.action === 'provisioning.run.fail');
    expect(failed).toHaveLength(3);
    expect(String(failed[0]!.details.reason)).toMatch(
      /^flash verification failed: the device does not hold Partitions at 0x8000/,
    );
    expect(unexpectedProblems(admin.problems, EXPECTED)).toEqual([]);
  }, 120_000);

  it('ok/the runs of a task: when, who, status, device ID or reason, an abandoned run among them', async () => {
    // A run whose browser went away, ended by the server's sweep once past the expiry.
    const task = (
      await server.request('GET', '/api/v1/provisioning-tasks', { headers: api.headers })
    ).json<{ items: { id: string; name: string }[] }>().items[0]!;
    const started = await server.request('POST', `/api/v1/provisioning-tasks/${task.id}/runs`, {
      body: { wifi: WIFI },
      headers: api.headers,
    });
    expect(started.status, started.text).toBe(201);
    expect(
      await server.runtime.provisioning.runs.abandonStale(new Date(Date.now() + 31 * 60_000)),
    ).toBe(1);

    const { page } = admin;
    await page.goto('/provisioning');
    await page
      .getByTestId('task-Sensor line')
      .getByRole('button', { name: 'Runs of Sensor line' })
      .click();
    const drawer = page.getByRole('dialog', { name: 'Runs of Sensor line' });
    const table = drawer.getByRole('table', { name: 'Runs of Sensor line' });
    await table.waitFor();
    await drawer.getByText('5 runs, newest first').waitFor();
    const rows = table.locator('tbody tr');
    const texts = await rows.allInnerTexts();
    expect(texts).toHaveLength(5);
    // (Badges are upper-cased by CSS, hence the /i.)
    const expected = [
      [/Abandoned/i, /abandoned: no result within 30 minutes/],
      [/Failed/i, /flash verification failed/],
      [/Failed/i, /bad identity line/],
      [/Failed/i, /./],
      [/Provisioned/i, new RegExp(provisioned)],
    ];
    expected.forEach(([status, outcome], i) => {
      expect(texts[i]).toMatch(status!);
      expect(texts[i]).toMatch(outcome!);
      // Who started it: the console's user, or (the abandoned one) the API token's.
      expect(texts[i]).toMatch(i === 0 ? /administrator-/ : /prov-admin/);
    });
    await admin.screenshot('provisioning-runs');
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });
    expect(unexpectedProblems(admin.problems, EXPECTED)).toEqual([]);
  }, 120_000);

  it('ok/a contributor runs tasks but has no controls to change them', async () => {
    const contributor = (await signInAs(server, browser, base, 'contributor', 'prov-runner'))
      .console;
    try {
      const { page } = contributor;
      await page.goto('/provisioning');
      const row = page.getByTestId('task-Sensor line');
      await row.getByRole('button', { name: 'Run Sensor line' }).waitFor();
      expect(await row.getByRole('button', { name: 'Edit Sensor line' }).count()).toBe(0);
      expect(await row.getByRole('button', { name: 'Delete Sensor line' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'New task' }).count()).toBe(0);
      // Contributors run tasks, so they see the runs too.
      await row.getByRole('button', { name: 'Runs of Sensor line' }).click();
      const drawer = page.getByRole('dialog', { name: 'Runs of Sensor line' });
      await drawer.getByText('5 runs, newest first').waitFor();
      await drawer.getByText('Abandoned', { exact: true }).waitFor();
      expect(unexpectedProblems(contributor.problems, EXPECTED)).toEqual([]);
    } finally {
      await contributor.close();
    }
  }, 120_000);
});
