import { readFileSync } from 'node:fs';
import { buildProofInput, nodeKeySigner, signProof } from '@trustlink/protocol';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  rootPin,
  unexpectedProblems,
  type ConsolePage,
} from '../../src/test-helpers/browser.js';
import { createTestUsers, type TestPrincipal } from '../../src/test-helpers/test-auth.js';
import { deviceKey } from '../../src/test-helpers/test-csr.js';
import { createPolicyAndBatch } from '../../src/test-helpers/test-devices.js';
import { startTestServer, type TestServer } from '../../src/test-helpers/test-server.js';
import { SIGNED_OUT_PROBE, signInAs } from './console-flows.js';

/** Clicks and returns the text of the file the browser downloads, with its suggested name. */
async function download(page: Page, button: Locator): Promise<{ name: string; text: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return { name: dl.suggestedFilename(), text: readFileSync((await dl.path())!, 'utf8') };
}

const field = (label: string) => new RegExp(`^${label}\\s*\\*?$`);
const menuLink = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Areas' }).getByRole('link', { name, exact: true });
const tab = (page: Page, name: string) => page.getByRole('tab', { name, exact: true }).click();
/** expect.poll's default of one second is too short on a loaded machine. */
const POLL = { timeout: 15_000 };
const PASSWORD = 'db-secret-Vx93-never-shown';
/** What the administrator's browser logs on purpose: the server's refusals the tests provoke. */
const EXPECTED = [
  SIGNED_OUT_PROBE,
  /status of 400 .*\/api\/v1\/database-connections$/,
  /status of 409 .*\/api\/v1\/database-connections\//,
  /status of 400 .*\/api\/v1\/manufacturing-credentials$/,
];

interface Connection {
  id: string;
  keyId: string;
  dataSource: string | null;
  secrets: { username: { set: boolean }; password: { set: boolean } };
}

// Database Direct and manufacturing credentials against the real server (SQLite): a connection
// refused by the form and by the server, added, downloaded, edited with its login kept, chosen in
// a policy and then refused deletion; a manufacturing credential refused by the form and by the
// server, shown once, used by a station
// until it is used up, and deleted; and a contributor who reads connections but not credentials.
describe('console: Database Direct and manufacturing credentials in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let base: string;
  let admin: ConsolePage;
  let headers: Record<string, string>;
  let apiAdmin: TestPrincipal;
  let batchId: string;
  /** A batch deleted while the credential form is open, for the server's own refusal. */
  let goneBatchId: string;

  beforeAll(async () => {
    // The loopback database is allow-listed, as an operator would; other private ranges are not.
    server = await startTestServer('sqlite', {
      env: { TRUSTLINK_OUTBOUND_ALLOW_LIST: '127.0.0.1' },
    });
    base = `https://127.0.0.1:${new URL(server.managementUrl).port}`;
    browser = await launchBrowser([rootPin(server.rootPem)]);
    const signedIn = await signInAs(server, browser, base, 'administrator', 'data-admin');
    admin = signedIn.console;
    headers = signedIn.headers;
    ({ admin: apiAdmin } = await createTestUsers(server));
    ({ batchId } = await createPolicyAndBatch(server, apiAdmin, 'Line A'));
    ({ batchId: goneBatchId } = await createPolicyAndBatch(server, apiAdmin, 'Line Z'));
  });
  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await server?.close();
  });

  it('ok/Database Direct: add (refused by the form, then by the server), download, edit keeping the login, use in a policy, deletion refused', async () => {
    const { page } = admin;
    await menuLink(page, 'Database Direct').click();
    await page.getByText('No database direct connections yet').waitFor();
    const writes: { method: string; body: Record<string, unknown> }[] = [];
    await page.route('**/api/v1/database-connections**', async (route) => {
      const r = route.request();
      if (r.method() === 'POST' || r.method() === 'PUT')
        writes.push({ method: r.method(), body: r.postDataJSON() as Record<string, unknown> });
      await route.continue();
    });

    // The form refuses what the server would, before anything is sent.
    await page.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add database direct connection' });
    await dialog.getByLabel(field('Connection name')).fill('Telemetry');
    await dialog.getByLabel(field('URL')).fill('postgresql://writer:pw@127.0.0.1:5432/telemetry');
    await dialog.getByLabel(field('Database')).fill('1st');
    await dialog.getByLabel('CA certificate (PEM)').fill('not a certificate');
    await dialog.getByRole('button', { name: 'Add connection' }).click();
    await dialog
      .getByText('The URL must not hold credentials; set username and password instead')
      .waitFor();
    await dialog.getByText(/^Start with a letter or underscore/).waitFor();
    await dialog.getByText(/^The CA certificate must hold PEM certificates/).waitFor();
    await dialog.getByText('Enter the database login').waitFor();
    await dialog.getByText("Enter the login's password").waitFor();
    expect(writes).toEqual([]);

    // A private address the operator has not allow-listed: the server's reason, by the URL.
    await dialog.getByLabel(field('URL')).fill('postgresql://10.20.30.40:5432');
    await dialog.getByLabel(field('Database')).fill('telemetry');
    await dialog.getByLabel('CA certificate (PEM)').fill('');
    await dialog.getByLabel(field('Data source')).fill('plant-1');
    await dialog.getByLabel(field('Username')).fill('telemetry_writer');
    await dialog.getByLabel(field('Password')).fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Add connection' }).click();
    await dialog.getByText(/^10\.20\.30\.40: .*private/i).waitFor();
    expect(writes).toHaveLength(1);
    await admin.screenshot('database-direct-refused');

    await dialog.getByLabel(field('URL')).fill('postgresql://127.0.0.1:5432');
    await dialog.getByLabel('Connect over TLS').uncheck();
    await dialog.getByRole('button', { name: 'Add connection' }).click();
    const row = page.getByTestId('connection-Telemetry');
    await row.waitFor();
    expect(await row.innerText()).toMatch(
      /PostgreSQL[\s\S]*postgresql:\/\/127\.0\.0\.1:5432[\s\S]*telemetry[\s\S]*plant-1[\s\S]*off[\s\S]*set/i,
    );
    expect(await page.content()).not.toContain(PASSWORD);
    const listed = await server.request('GET', '/api/v1/database-connections', { headers });
    expect(listed.text).not.toContain(PASSWORD);
    expect(listed.text).not.toContain('telemetry_writer');
    const [conn] = listed.json<{ items: Connection[] }>().items;

    // The public key as PEM (the API's), and the JWKS link (its key is the connection's kid).
    const pem = await download(
      page,
      row.getByRole('button', { name: 'Download public key of Telemetry' }),
    );
    expect(pem.name).toBe('telemetry-jwt-public.pem');
    const fromApi = await server.request(
      'GET',
      `/api/v1/database-connections/${conn!.id}/public-key`,
      { headers },
    );
    expect(pem.text).toBe(fromApi.text);
    expect(pem.text).toContain('-----BEGIN PUBLIC KEY-----');
    const jwks = row.getByRole('link', { name: 'JWKS of Telemetry' });
    const href = await jwks.getAttribute('href');
    expect(href).toBe(`/api/v1/database-connections/${conn!.id}/jwks`);
    const keys = await page.evaluate(async (h) => (await fetch(h)).json(), href!);
    expect(keys).toMatchObject({ keys: [{ kid: conn!.keyId, crv: 'P-256', alg: 'ES256' }] });
    await admin.screenshot('database-direct');

    // Editing: the login is set and stays so when its boxes are left empty (not sent at all).
    await page.getByRole('button', { name: 'Edit Telemetry' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit connection Telemetry' });
    expect(await edit.getByLabel(field('Password')).inputValue()).toBe('');
    await edit.getByText('A value is set: leave empty to keep it.').first().waitFor();
    expect(await edit.getByLabel('Connect over TLS').isChecked()).toBe(false);
    await edit.getByLabel(field('Data source')).fill('plant-2');
    await edit.getByRole('button', { name: 'Save connection' }).click();
    await row.getByText('plant-2').waitFor();
    const put = writes.find((w) => w.method === 'PUT')!;
    expect(Object.keys(put.body)).not.toContain('username');
    expect(Object.keys(put.body)).not.toContain('password');
    const after = await server.request('GET', `/api/v1/database-connections/${conn!.id}`, {
      headers,
    });
    expect(after.json<Connection>()).toMatchObject({
      dataSource: 'plant-2',
      secrets: { username: { set: true }, password: { set: true } },
    });

    // A database direct policy chooses it in the policy form.
    await menuLink(page, 'Policies').click();
    await page.getByTestId('policy-Line A').waitFor();
    await page.getByRole('button', { name: 'Create policy' }).click();
    const policy = page.getByRole('dialog', { name: 'Create policy' });
    await policy.getByLabel('Policy name').fill('Readings');
    await policy.getByText('Database direct', { exact: true }).click();
    await policy.getByLabel(field('Database direct connection')).click();
    await page.getByRole('option', { name: 'Telemetry (PostgreSQL, telemetry)' }).click();
    await admin.screenshot('policy-database-direct');
    await policy.getByRole('button', { name: 'Create policy' }).click();
    await page.getByTestId('policy-Readings').waitFor();
    const policies = await server.request('GET', '/api/v1/policies', { headers });
    expect(policies.json<{ items: unknown[] }>().items).toContainEqual(
      expect.objectContaining({
        name: 'Readings',
        connectionType: 'database-direct',
        databaseConnectionId: conn!.id,
      }),
    );

    // The server refuses to delete a connection a policy uses, and says which.
    await menuLink(page, 'Database Direct').click();
    await page.getByRole('button', { name: 'Delete Telemetry' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete connection' });
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await confirm.getByText(/is used by .*Readings.*change or remove that first/).waitFor();
    await admin.screenshot('database-direct-in-use');
    await confirm.getByRole('button', { name: 'Close' }).click();
    await page.getByTestId('connection-Telemetry').waitFor();
    await page.unroute('**/api/v1/database-connections**');
    expect(unexpectedProblems(admin.problems, EXPECTED)).toEqual([]);
  });

  it('ok/Manufacturing credentials: refused by the form, value shown once, used up by a station, deleted', async () => {
    const { page } = admin;
    await menuLink(page, 'HSM').click();
    await tab(page, 'Manufacturing');
    expect(new URL(page.url()).search).toBe('?tab=manufacturing');
    await page.getByText('No manufacturing credentials').waitFor();
    let posts = 0;
    await page.route('**/api/v1/manufacturing-credentials', async (route) => {
      if (route.request().method() === 'POST') posts++;
      await route.continue();
    });

    await page.getByRole('button', { name: 'Create credential' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create manufacturing credential' });
    await dialog.getByLabel(field('Credential name')).fill('Line A / week 48');
    await dialog.getByLabel(field('Maximum devices')).fill('0');
    await dialog.getByRole('button', { name: 'Create credential' }).click();
    await dialog.getByText('Use letters, digits, spaces, dots, underscores and hyphens').waitFor();
    await dialog.getByText('Choose the batch the station adds devices to').waitFor();
    await dialog.getByText('At least 1').waitFor();
    expect(posts).toBe(0);

    // A batch deleted after the form listed it: the server's refusal, beside the batch.
    await dialog.getByLabel(field('Credential name')).fill('Line A week 48');
    await dialog.getByLabel(field('Batch')).click();
    await page.getByRole('option', { name: 'Line Z', exact: true }).click();
    await dialog.getByLabel(field('Maximum devices')).fill('1');
    const gone = await server.request('DELETE', `/api/v1/batches/${goneBatchId}`, { headers });
    expect(gone.status, gone.text).toBe(204);
    await dialog.getByRole('button', { name: 'Create credential' }).click();
    await dialog.getByText('unknown batch').waitFor();
    expect(posts).toBe(1);

    await dialog.getByLabel(field('Batch')).click();
    await page.getByRole('option', { name: 'Line A', exact: true }).click();
    await dialog.getByRole('button', { name: 'Create credential' }).click();
    const shown = page.getByRole('dialog', { name: 'Manufacturing credential Line A week 48' });
    await shown.getByText('Shown only this once').waitFor();
    const value = (await shown.getByTestId('new-credential-value').innerText()).trim();
    expect(value).toMatch(/^tlm_[A-Za-z0-9_-]{43}$/);
    await shown.getByRole('button', { name: 'Copy value' }).waitFor();
    await admin.screenshot('hsm-manufacturing-once');
    await shown.getByRole('button', { name: 'I have copied it' }).click();
    await expect.poll(() => page.getByRole('dialog').count(), POLL).toBe(0);
    const row = page.getByTestId('credential-Line A week 48');
    await row.waitFor();
    // Badges are shown in capitals: their text is matched regardless of case.
    expect(await row.innerText()).toMatch(/Line A[\s\S]*0 of 1[\s\S]*active[\s\S]*never/i);
    expect(await row.innerText()).toContain(`…${value.slice(-4)}`);
    expect(await page.content()).not.toContain(value);
    const listed = await server.request('GET', '/api/v1/manufacturing-credentials', { headers });
    expect(listed.text).not.toContain(value);

    // A station uses it: one device registered, and the list shows it used up.
    const bearer = { authorization: `Bearer ${value}` };
    const challenge = await server.request('POST', '/api/v1/manufacturing/challenge', {
      headers: bearer,
      body: {},
    });
    expect(challenge.status, challenge.text).toBe(200);
    const { nonce } = challenge.json<{ nonce: string }>();
    const key = deviceKey('P-256');
    const path = '/api/v1/manufacturing/devices';
    const input = buildProofInput({
      purpose: 'register',
      host: '127.0.0.1',
      method: 'POST',
      path,
      nonce,
      body: key.spkiDer,
    });
    const signature = await signProof(input, nodeKeySigner(key.privateKey));
    const registered = await server.request('POST', path, {
      headers: bearer,
      body: {
        spki: key.spkiDer.toString('base64url'),
        nonce,
        signature: signature.toString('base64url'),
      },
    });
    expect(registered.status, registered.text).toBe(201);
    expect(registered.json<{ batchId: string }>().batchId).toBe(batchId);
    await page.reload();
    await expect
      .poll(() => page.getByTestId('credential-Line A week 48').innerText(), POLL)
      .toMatch(/1 of 1[\s\S]*used-up/i);
    await admin.screenshot('hsm-manufacturing');

    // Deleted: gone from the list, and the station is refused from the next request on.
    await page.getByRole('button', { name: 'Delete credential Line A week 48' }).click();
    await page
      .getByRole('dialog', { name: 'Delete manufacturing credential' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await page.getByText('No manufacturing credentials').waitFor();
    const refused = await server.request('POST', '/api/v1/manufacturing/challenge', {
      headers: bearer,
      body: {},
    });
    expect(refused.status).toBe(401);
    expect(unexpectedProblems(admin.problems, EXPECTED)).toEqual([]);
  });

  it('ok/a contributor reads connections and their keys, without controls or secrets, and is refused credentials', async () => {
    const { console: c } = await signInAs(server, browser, base, 'contributor', 'data-reader');
    try {
      const { page } = c;
      await menuLink(page, 'Database Direct').click();
      const row = page.getByTestId('connection-Telemetry');
      await row.waitFor();
      expect(await page.getByRole('button', { name: 'Add connection' }).count()).toBe(0);
      expect(await row.getByRole('button', { name: /^(Edit|Delete)/ }).count()).toBe(0);
      expect(await row.innerText()).toMatch(/\bset\b/i);
      expect(await page.content()).not.toContain(PASSWORD);
      const pem = await download(
        page,
        row.getByRole('button', { name: 'Download public key of Telemetry' }),
      );
      expect(pem.text).toContain('-----BEGIN PUBLIC KEY-----');
      await c.screenshot('contributor-database-direct');

      await menuLink(page, 'HSM').click();
      await page.getByRole('tab', { name: 'Issuing certificates', selected: true }).waitFor();
      expect(await page.getByRole('tab', { name: 'Manufacturing' }).count()).toBe(0);
      // A typed-in tab shows the server's refusal, and no create button.
      await page.goto('/hsm?tab=manufacturing');
      await page.getByText('this needs the administrator role').waitFor();
      expect(await page.getByRole('button', { name: 'Create credential' }).count()).toBe(0);
      expect(
        unexpectedProblems(c.problems, [
          SIGNED_OUT_PROBE,
          /status of 403 .*\/api\/v1\/manufacturing-credentials$/,
        ]),
      ).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
