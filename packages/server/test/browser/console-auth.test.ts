import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  openConsole,
  rootPin,
  unexpectedProblems,
  type ConsolePage,
} from '../../src/test-helpers/browser.js';
import { deviceIds } from '../../src/test-helpers/test-fleet.js';
import { startTestServer, type TestServer } from '../../src/test-helpers/test-server.js';
import {
  acknowledgeRecoveryCodes,
  nextCode,
  readEnrolmentSecret,
  signIn,
  SIGNED_OUT_PROBE,
  type Account,
} from './console-flows.js';

// One journey through the console, in order: first-run setup, sign-in, the dashboard, users,
// logs, sign-out, a contributor's view, and an expired session. The browser tier runs on the
// embedded default database; the API behind each screen is tested on every dialect.
describe('console journey in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let base: string;
  let admin: ConsolePage;
  const adminAccount: Account = { username: 'ops-admin', password: 'a long passphrase 42' };
  const contributor: Account = { username: 'cara', password: 'another passphrase 7' };
  let recoveryCodes: string[] = [];

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    base = `https://127.0.0.1:${new URL(server.managementUrl).port}`;
    browser = await launchBrowser([rootPin(server.rootPem)]);
    admin = await openConsole(browser, base);
  });
  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await server?.close();
  });

  it('ok/first-run setup: administrator with TOTP enrolment, recovery codes shown once', async () => {
    const { page } = admin;
    const fragment = new URL(server.setupUrl!).hash;
    expect(fragment).toMatch(/^#token=/);
    // Requests the page makes must never carry the token anywhere but the setup API's body.
    const leaks: string[] = [];
    page.on('request', (r) => {
      const token = fragment.slice('#token='.length);
      const inUrl = r.url().includes(token);
      const inBody = (r.postData() ?? '').includes(token);
      if (inUrl || (inBody && !/\/api\/v1\/setup(\/check)?$/.test(r.url()))) leaks.push(r.url());
    });
    await page.goto(`/setup${fragment}`);
    adminAccount.secret = await readEnrolmentSecret(page);
    expect(new URL(page.url()).hash).toBe('');
    await admin.screenshot('setup');

    // The browser checks what the server checks, before sending.
    await page.getByLabel('Username').fill('ops admin');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await expect
      .poll(() => page.getByText('Use 1 to 64 letters, digits, hyphens or underscores').count())
      .toBe(1);

    await page.getByLabel('Username').fill(adminAccount.username);
    await page.getByLabel('First name').fill('Ada');
    await page.getByLabel('Last name').fill('Admin');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel(/^Password/).fill(adminAccount.password);
    await page.getByLabel('Confirm password').fill(adminAccount.password);
    // A wrong code: the server refuses it and its message shows beside the field.
    await page.getByLabel('Authentication code').fill('000000');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.getByText(/the code does not match the authenticator secret/).waitFor();

    await page.getByLabel('Authentication code').fill(await nextCode(adminAccount));
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.getByTestId('recovery-codes').waitFor();
    await admin.screenshot('setup-recovery-codes');
    recoveryCodes = await acknowledgeRecoveryCodes(page, /continue to sign in/i);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(leaks).toEqual([]);
    expect(unexpectedProblems(admin.problems, [SIGNED_OUT_PROBE, /status of 400/])).toEqual([]);
  });

  it('fail/the setup link works once', async () => {
    const other = await openConsole(browser, base);
    try {
      await other.page.goto(`/setup${new URL(server.setupUrl!).hash}`);
      await other.page.getByText(/already set up; sign in instead/).waitFor();
    } finally {
      await other.close();
    }
  });

  it('ok/sign-in with password then code lands on the dashboard with live status tiles', async () => {
    const { page } = admin;
    await admin.screenshot('sign-in');
    await signIn(page, adminAccount);
    await page.waitForURL(/\/dashboard$/);
    for (const key of ['keystore', 'backend', 'database']) {
      await expect
        .poll(() => page.getByTestId(`status-${key}`).getAttribute('data-colour'))
        .toBe('green');
    }
    await page.getByTestId('devices-empty').waitFor();
    await page.getByText('ops-admin set up this instance', { exact: true }).waitFor();
    await page.getByText('ops-admin signed in', { exact: true }).first().waitFor();
    await admin.screenshot('dashboard');

    // Hover shows what the server said; a click checks again.
    await page.getByTestId('status-database').hover();
    await page.getByRole('tooltip').getByText('sqlite answers').waitFor();
    const again = page.waitForRequest((r) => r.url().endsWith('/readyz'));
    await page.getByTestId('status-database').click();
    await again;
    // The keyboard does the same: focus shows the details, Enter checks again.
    await page.mouse.move(0, 0);
    await page.keyboard.press('Shift+Tab');
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid')))
      .toBe('status-backend');
    await page
      .getByRole('tooltip')
      .getByText(/answered its readiness check/)
      .waitFor();
    const byKey = page.waitForRequest((r) => r.url().endsWith('/readyz'));
    await page.keyboard.press('Enter');
    await byKey;

    // Dark colour scheme, kept across a reload (applied before first paint by color-scheme.js).
    await page.getByRole('button', { name: 'Switch to dark colour scheme' }).click();
    await page.reload();
    expect(await page.locator('html').getAttribute('data-mantine-color-scheme')).toBe('dark');
    await page.getByTestId('status-database').waitFor();
    await page.getByText('ops-admin signed in', { exact: true }).first().waitFor();
    await admin.screenshot('dashboard-dark');
    await page.getByRole('button', { name: 'Switch to light colour scheme' }).click();
    expect(unexpectedProblems(admin.problems, [SIGNED_OUT_PROBE, /status of 400/])).toEqual([]);
  });

  it('ok/Users: create a contributor; the server has the last word on a taken username', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByTestId('user-ops-admin').waitFor();
    await page.getByRole('button', { name: 'Create user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create user' });
    await dialog.getByLabel('Username').fill('ops-admin');
    await dialog.getByLabel('First name').fill('Cara');
    await dialog.getByLabel('Last name').fill('Contributor');
    await dialog.getByLabel('Email').fill('cara@example.com');
    await dialog.getByLabel(/^Password/).fill(contributor.password);
    await dialog.getByLabel('Confirm password').fill(contributor.password);
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await dialog.getByText(/username ops-admin is taken/).waitFor();
    await dialog.getByLabel('Username').fill(contributor.username);
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await page.getByTestId('user-cara').waitFor();
    await expect.poll(() => dialog.count()).toBe(0);
    await admin.screenshot('users');
    const problems = unexpectedProblems(admin.problems, [SIGNED_OUT_PROBE, /status of 40[09]/]);
    expect(problems).toEqual([]);
  });

  it('ok/My account: an API token shown once works for the API until revoked', async () => {
    const { page } = admin;
    await page.getByRole('button', { name: /account menu of ops-admin/i }).click();
    await page.getByRole('menuitem', { name: 'My account' }).click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.getByText('You have no API tokens').waitFor();
    await page.getByLabel('Token name').fill('ci-pipeline');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.getByTestId('new-api-token').innerText()).trim();
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByTestId('token-ci-pipeline').waitFor();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    await admin.screenshot('account');
    const me = await server.request('GET', '/api/v1/auth/me', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.status).toBe(200);
    expect(me.json()).toMatchObject({ user: { username: 'ops-admin' }, method: 'token' });

    // With the token, register three devices through the API; the dashboard counts them.
    const bearer = { authorization: `Bearer ${token}` };
    const policy = await server.request('POST', '/api/v1/policies', {
      headers: bearer,
      body: {
        name: 'Line 1',
        connectionType: 'iot-hub',
        deviceCertificate: { lifetime: { value: 90, unit: 'days' } },
        issuingCertificate: { lifetime: { value: 2, unit: 'years' } },
      },
    });
    expect(policy.status).toBe(201);
    const batch = await server.request('POST', '/api/v1/batches', {
      headers: bearer,
      body: { name: 'First devices', policyId: policy.json<{ id: string }>().id },
    });
    expect(batch.status).toBe(201);
    const upload = await server.request(
      'POST',
      `/api/v1/batches/${batch.json<{ id: string }>().id}/devices/upload`,
      { headers: bearer, body: { devices: deviceIds(3) } },
    );
    expect(upload.status).toBe(200);
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await expect
      .poll(() => page.getByTestId('devices-total').textContent())
      .toBe('3 devices in total, 3 not enrolled yet');
    expect(await page.getByTestId('devices-enrolled').textContent()).toBe('0');
    await page.getByText('ops-admin created API token ci-pipeline', { exact: true }).waitFor();
    await admin.screenshot('dashboard-devices');
    await page.getByRole('button', { name: /account menu of ops-admin/i }).click();
    await page.getByRole('menuitem', { name: 'My account' }).click();

    await page.getByRole('button', { name: 'Revoke ci-pipeline' }).click();
    await page
      .getByRole('dialog', { name: 'Revoke API token' })
      .getByRole('button', { name: 'Revoke' })
      .click();
    await page.getByTestId('token-ci-pipeline').getByText('revoked').waitFor();
    const after = await server.request('GET', '/api/v1/auth/me', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(after.status).toBe(401);
  });

  it('ok/Logs: newest first, filtered by text', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Logs' }).click();
    const table = page.getByRole('table', { name: 'Audit log' });
    await table.getByText('ops-admin created user cara').waitFor();
    await admin.screenshot('logs');
    await page.getByLabel('Search').fill('cara');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => table.getByText('ops-admin signed in').count()).toBe(0);
    await table.getByText('ops-admin created user cara').waitFor();
    await page.getByLabel('Search').fill('no such thing anywhere');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No entries match these filters').waitFor();
  });

  it('ok/an expired session sends the user to sign-in and back where they were', async () => {
    const { page } = admin;
    await page.waitForURL(/\/logs$/);
    // The server forgets the session (as after the idle timeout); the next call gets 401.
    await admin.context.clearCookies();
    await page.getByRole('button', { name: 'Refresh the log' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByText('Your session has ended').waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/logs');
    // Signing in again, this time with a recovery code instead of the app.
    await signIn(page, adminAccount, { recoveryCode: recoveryCodes[0] });
    await page.waitForURL(/\/logs$/);
    expect(unexpectedProblems(admin.problems, [SIGNED_OUT_PROBE, /status of 40[019]/])).toEqual([]);
  });

  it('ok/sign-out ends the session; the console then asks to sign in', async () => {
    const { page } = admin;
    await page.getByRole('button', { name: /account menu of ops-admin/i }).click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.goto('/dashboard');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/dashboard');
  });

  it('ok/a contributor enrols at first sign-in, sees no Users menu, and gets the server 403 there', async () => {
    const c = await openConsole(browser, base);
    try {
      await c.page.goto('/');
      await signIn(c.page, contributor);
      await c.page.waitForURL(/\/dashboard$/);
      const menu = c.page.getByRole('navigation', { name: 'Areas' });
      await menu.getByRole('link', { name: 'Logs' }).waitFor();
      expect(await menu.getByRole('link', { name: 'Users' }).count()).toBe(0);
      await c.page.goto('/users');
      await c.page.getByText('this needs the administrator role').waitFor();
      await c.screenshot('contributor-users-refused');
      expect(
        unexpectedProblems(c.problems, [SIGNED_OUT_PROBE, /status of 403 .*\/api\/v1\/users$/]),
      ).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
