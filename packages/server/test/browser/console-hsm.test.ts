import { X509Certificate, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  rootPin,
  unexpectedProblems,
  type ConsolePage,
} from '../../src/test-helpers/browser.js';
import { openssl, scratch } from '../../src/test-helpers/test-openssl.js';
import { startTestServer, type TestServer } from '../../src/test-helpers/test-server.js';
import { SIGNED_OUT_PROBE, signInAs } from './console-flows.js';

/** Clicks and returns the text of the file the browser downloads, with its suggested name. */
async function download(page: Page, button: Locator): Promise<{ name: string; text: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return { name: dl.suggestedFilename(), text: readFileSync((await dl.path())!, 'utf8') };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

// The HSM screen against the real server: issuing CAs with status and PEM downloads, the OEM
// root, a token shown once, signing keys generated, imported and downloaded (and a deletion the
// server refuses), an auth cert made by openssl and imported, and what a contributor may see.
describe('console: HSM in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let base: string;
  let admin: ConsolePage;
  let headers: Record<string, string>;
  const files = scratch();

  const tab = (page: Page, name: string) => page.getByRole('tab', { name, exact: true }).click();

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    base = `https://127.0.0.1:${new URL(server.managementUrl).port}`;
    browser = await launchBrowser([rootPin(server.rootPem)]);
    const signedIn = await signInAs(server, browser, base, 'administrator', 'pki-admin');
    admin = signedIn.console;
    headers = signedIn.headers;
    const policy = await server.request('POST', '/api/v1/policies', {
      headers,
      body: {
        name: 'Line A policy',
        connectionType: 'iot-hub',
        deviceCertificate: { lifetime: { value: 1, unit: 'years' } },
        issuingCertificate: { lifetime: { value: 5, unit: 'years' } },
      },
    });
    const batch = await server.request('POST', '/api/v1/batches', {
      headers,
      body: { name: 'Line A', policyId: policy.json<{ id: string }>().id },
    });
    expect(batch.status).toBe(201);
  });
  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await server?.close();
    files.remove();
  });

  it('ok/Issuing certificates: create one, see it "not used", download it with its chain; dashboard tiles', async () => {
    const { page } = admin;
    await page
      .getByRole('navigation', { name: 'Areas' })
      .getByRole('link', { name: 'HSM' })
      .click();
    await page.getByRole('tab', { name: 'Issuing certificates', selected: true }).waitFor();
    // The policy made in beforeAll has its own issuing CA already.
    await page.getByRole('table').first().waitFor();
    await page.getByRole('button', { name: 'Create issuing CA' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create issuing CA' });
    await dialog.getByLabel(/^Name/).fill('Line 1 CA');
    await dialog.getByLabel(/^Lifetime\s*\*?$/).fill('2');
    await dialog.getByRole('button', { name: 'Create issuing CA' }).click();
    const row = page.getByTestId('ca-Line 1 CA');
    await row.waitFor();
    expect(await row.innerText()).toMatch(/not used[\s\S]*P-256/i);

    const single = await download(
      page,
      row.getByRole('button', { name: 'Download certificate Line 1 CA', exact: true }),
    );
    expect(single.name).toBe('issuing-line-1-ca.pem');
    expect(single.text.match(PEM_CERT)).toHaveLength(1);
    const chain = await download(
      page,
      row.getByRole('button', { name: 'Download certificate Line 1 CA with its chain' }),
    );
    expect(chain.name).toBe('issuing-line-1-ca-chain.pem');
    const certs = chain.text.match(PEM_CERT)!.map((p) => new X509Certificate(p));
    expect(certs).toHaveLength(2);
    expect(certs[0]!.verify(certs[1]!.publicKey)).toBe(true);
    expect(certs[1]!.fingerprint256).toBe(new X509Certificate(server.rootPem).fingerprint256);
    await admin.screenshot('hsm');

    // The tabs work from the keyboard: arrows move between them.
    await page.getByRole('tab', { name: 'Issuing certificates' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('tab', { name: 'TLS', selected: true }).waitFor();
    await page.keyboard.press('ArrowLeft');
    await page.getByRole('tab', { name: 'Issuing certificates', selected: true }).waitFor();
    await tab(page, 'TLS');
    await page
      .getByRole('table', { name: 'TLS certificates' })
      .getByText('valid', { exact: true })
      .first()
      .waitFor();
    await tab(page, 'OEM root');
    const rootRow = page
      .getByRole('table', { name: 'OEM root certificate' })
      .getByRole('row')
      .nth(1);
    const root = await download(
      page,
      rootRow.getByRole('button', { name: /^Download certificate/ }),
    );
    expect(new X509Certificate(root.text).fingerprint256).toBe(
      new X509Certificate(server.rootPem).fingerprint256,
    );
    expect(await rootRow.getByRole('button', { name: /with its chain/ }).count()).toBe(0);

    await page
      .getByRole('navigation', { name: 'Areas' })
      .getByRole('link', { name: 'Dashboard' })
      .click();
    // Not used yet: the policy's CA and the one made here.
    await expect.poll(() => page.getByTestId('issuing-not-used').textContent()).toBe('2');
    expect(await page.getByTestId('issuing-valid').textContent()).toBe('0');
    expect(await page.getByTestId('issuing-expired').textContent()).toBe('0');
    await admin.screenshot('dashboard-certificates');
    await page.getByRole('link', { name: 'Go to HSM' }).click();
    await page.getByRole('heading', { name: 'HSM' }).waitFor();
  });

  it('ok/Tokens: the value is shown once, in a dialog, and never listed', async () => {
    const { page } = admin;
    await tab(page, 'Tokens');
    await page.getByText('No tokens').waitFor();
    expect(new URL(page.url()).search).toBe('?tab=tokens');
    await page.getByRole('button', { name: 'Create token' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create token' });
    await dialog.getByLabel(/^Token name/).fill('Line A token');
    await dialog.getByLabel(/^Batch/).click();
    await page.getByRole('option', { name: 'Line A', exact: true }).click();
    await dialog.getByRole('button', { name: 'Create token' }).click();
    const shown = page.getByRole('dialog', { name: 'Token Line A token' });
    await shown.getByText('Shown only this once').waitFor();
    const value = (await shown.getByTestId('new-token-value').innerText()).trim();
    expect(value).toMatch(/^[0-9a-f]{32}$/);
    await shown.getByRole('button', { name: 'Copy value' }).waitFor();
    await admin.screenshot('hsm-token-once');
    await shown.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByTestId('token-Line A token').waitFor();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    expect(await page.content()).not.toContain(value);
    const listed = await server.request('GET', '/api/v1/enrolment-tokens', { headers });
    expect(listed.text).not.toContain(value);
    await admin.screenshot('hsm-tokens');
  });

  it('ok/Signing keys: generate, download the public key, import a development key as nohsm:', async () => {
    const { page } = admin;
    await tab(page, 'Signing keys');
    await page.getByText('No signing keys').waitFor();
    await page.getByRole('button', { name: 'Create signing key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create signing key' });
    await dialog.getByLabel(/^Key name/).fill('Firmware key');
    await dialog.getByRole('button', { name: 'Generate key' }).click();
    const row = page.getByTestId('signing-key-Firmware key');
    await row.waitFor();
    expect(await row.innerText()).toMatch(/ECDSA\s+256 bits\s+software/);
    const pub = await download(
      page,
      row.getByRole('button', { name: 'Download the public key of Firmware key' }),
    );
    expect(pub.name).toBe('firmware-key-public.pem');
    expect(createPublicKey(pub.text).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const keys = (await server.request('GET', '/api/v1/pki/signing-keys', { headers })).json<{
      keys: { id: string; name: string }[];
    }>().keys;
    const fwKey = keys.find((k) => k.name === 'Firmware key')!;
    const fromApi = await server.request('GET', `/api/v1/pki/signing-keys/${fwKey.id}/public-key`, {
      headers,
    });
    expect(pub.text).toBe(fromApi.text);

    // A development key made with openssl, imported with the warning in view.
    const keyPem = openssl([
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
    ]).out;
    await page.getByRole('button', { name: 'Create signing key' }).click();
    await dialog.getByText('Import a key (development)', { exact: true }).click();
    await dialog.getByText('For development only').waitFor();
    await dialog.getByLabel(/^Key name/).fill('dev key');
    await dialog
      .getByLabel(/^Private key \(PEM\)/)
      .fill('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----');
    await dialog.getByRole('button', { name: 'Import key' }).click();
    await dialog.getByText(/Paste a PEM private key/).waitFor();
    await dialog.getByLabel(/^Private key \(PEM\)/).fill(keyPem);
    await admin.screenshot('hsm-signing-key-import');
    await dialog.getByRole('button', { name: 'Import key' }).click();
    await page.getByTestId('signing-key-nohsm:dev key').waitFor();

    // A key in use is not deleted: the server says what uses it (a domain's registered check).
    const unregister = server.runtime.pkiServices.keyUsage.register(
      'browser-test',
      async (_i, keyId) => (keyId === fwKey.id ? ['batch "Line A"'] : []),
    );
    try {
      await row.getByRole('button', { name: 'Delete Firmware key' }).click();
      const del = page.getByRole('dialog', { name: 'Delete signing key' });
      await del.getByRole('button', { name: 'Delete' }).click();
      await del.getByText('signing key "Firmware key" is in use by batch "Line A"').waitFor();
      await del.getByRole('button', { name: 'Close' }).click();
    } finally {
      unregister();
    }
    await page.getByRole('button', { name: 'Delete nohsm:dev key' }).click();
    await page
      .getByRole('dialog', { name: 'Delete signing key' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await expect.poll(() => page.getByTestId('signing-key-nohsm:dev key').count()).toBe(0);
    await admin.screenshot('hsm-signing-keys');
  });

  it('ok/Auth certs: a CA made with openssl is imported for a batch with a rule; a pasted key is refused first', async () => {
    const { page } = admin;
    const key = files.file('vendor.key', '');
    const cert = files.file('vendor.pem', '');
    const made = openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '30',
      '-subj',
      '/O=Vendor/CN=Vendor SE CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    expect(made.status, made.out).toBe(0);
    const certPem = readFileSync(cert, 'utf8');
    const keyPem = readFileSync(key, 'utf8');

    await tab(page, 'Auth certs');
    await page.getByText('No auth certs').waitFor();
    await page.getByRole('button', { name: 'Import auth cert' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import auth cert' });
    await dialog.getByText('Vendor CAs are shared').waitFor();
    const requests: string[] = [];
    const watch = (r: { url(): string; method(): string }) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/v1/auth-certs')) requests.push(r.url());
    };
    page.on('request', watch);
    await dialog.getByLabel(/^CA certificate \(PEM\)/).fill(certPem + keyPem);
    await dialog.getByLabel(/^Batch/).click();
    await page.getByRole('option', { name: 'Line A', exact: true }).click();
    await dialog.getByRole('button', { name: 'Import certificate' }).click();
    await dialog.getByText(/holds a private key/).waitFor();
    await dialog.getByText('Choose a rule').waitFor();
    expect(requests).toEqual([]);
    await dialog.getByLabel(/^CA certificate \(PEM\)/).fill(certPem);
    await dialog.getByLabel('Requires token').check();
    await admin.screenshot('hsm-auth-cert-import');
    await dialog.getByRole('button', { name: 'Import certificate' }).click();
    const row = page.getByTestId('auth-cert-Vendor SE CA');
    await row.waitFor();
    page.off('request', watch);
    expect(requests).toHaveLength(1);
    expect(await row.innerText()).toMatch(/Line A\s+requires token[\s\S]*valid/i);
    const pem = await download(page, row.getByRole('button', { name: 'Download Vendor SE CA' }));
    expect(new X509Certificate(pem.text).fingerprint256).toBe(
      new X509Certificate(certPem).fingerprint256,
    );
    await admin.screenshot('hsm-auth-certs');
    expect(
      unexpectedProblems(admin.problems, [
        SIGNED_OUT_PROBE,
        /status of 409 .*\/pki\/signing-keys\//,
      ]),
    ).toEqual([]);
  });

  it('ok/a contributor sees policies, devices and the HSM, without administrator actions; the server refuses tokens', async () => {
    const { console: c } = await signInAs(server, browser, base, 'contributor', 'pki-contributor');
    try {
      const { page } = c;
      const menu = page.getByRole('navigation', { name: 'Areas' });
      for (const area of ['Devices', 'Policies', 'HSM'])
        await menu.getByRole('link', { name: area }).waitFor();
      await menu.getByRole('link', { name: 'HSM' }).click();
      await page.getByTestId('ca-Line 1 CA').waitFor();
      expect(await page.getByRole('tab', { name: 'Tokens' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Create issuing CA' }).count()).toBe(0);
      await tab(page, 'Signing keys');
      const row = page.getByTestId('signing-key-Firmware key');
      await row.waitFor();
      expect(await page.getByRole('button', { name: 'Create signing key' }).count()).toBe(0);
      expect(await row.getByRole('button', { name: /^Delete/ }).count()).toBe(0);
      const pub = await download(
        page,
        row.getByRole('button', { name: 'Download the public key of Firmware key' }),
      );
      expect(pub.text).toContain('-----BEGIN PUBLIC KEY-----');
      await tab(page, 'Auth certs');
      await page.getByTestId('auth-cert-Vendor SE CA').waitFor();
      expect(await page.getByRole('button', { name: 'Import auth cert' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Delete Vendor SE CA' }).count()).toBe(0);
      await c.screenshot('contributor-hsm');

      // A typed-in Tokens tab: the screen shows the server's refusal, and no create button.
      await page.goto('/hsm?tab=tokens');
      await page.getByText('this needs the administrator role').waitFor();
      expect(await page.getByRole('button', { name: 'Create token' }).count()).toBe(0);

      // Policies and devices are theirs to change.
      await menu.getByRole('link', { name: 'Policies' }).click();
      await page.getByTestId('policy-Line A policy').waitFor();
      await page.getByRole('button', { name: 'Create policy' }).waitFor();
      await menu.getByRole('link', { name: 'Devices' }).click();
      await page.getByTestId('batch-Line A').waitFor();
      await page.getByRole('button', { name: 'Create batch' }).waitFor();
      expect(
        unexpectedProblems(c.problems, [
          SIGNED_OUT_PROBE,
          /status of 403 .*\/api\/v1\/enrolment-tokens$/,
        ]),
      ).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
