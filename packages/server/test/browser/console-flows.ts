import * as OTPAuth from 'otpauth';
import { expect } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openConsole, type ConsolePage } from '../../src/test-helpers/browser.js';
import { createTestUser } from '../../src/test-helpers/test-auth.js';
import type { TestServer } from '../../src/test-helpers/test-server.js';

/** What a test knows about an account it created through the console. */
export interface Account {
  username: string;
  password: string;
  /** base32 TOTP secret, read from the enrolment screen. */
  secret?: string;
  /** The last TOTP time step used: the server refuses a step twice (replay protection). */
  lastStep?: number;
}

const PERIOD_MS = 30_000;

/** Signed out, the console's first call (GET /api/v1/auth/me) is answered 401: expected. */
export const SIGNED_OUT_PROBE = /status of 401 .* at https:\/\/[^ ]+\/api\/v1\/auth\/me$/;

/**
 * A code the server will accept: for the current time step, or the next one if the current
 * was already used (the server allows one step of drift, and never the same step twice). If
 * even the next step is used, waits for time to catch up.
 */
export async function nextCode(account: Account): Promise<string> {
  const step = Math.max(Math.floor(Date.now() / PERIOD_MS), (account.lastStep ?? -1) + 1);
  const usableFrom = (step - 1) * PERIOD_MS + 1000;
  if (Date.now() < usableFrom) await new Promise((r) => setTimeout(r, usableFrom - Date.now()));
  account.lastStep = step;
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(account.secret!) });
  return totp.generate({ timestamp: step * PERIOD_MS + 1000 });
}

/** Reads the secret of the enrolment on screen (shown grouped by four). */
export async function readEnrolmentSecret(page: Page): Promise<string> {
  await page.getByTestId('totp-qr').waitFor();
  const shown = await page.getByTestId('totp-secret').innerText();
  return shown.replace(/\s/g, '');
}

/** Confirms the recovery codes on screen were shown, then moves on. */
export async function acknowledgeRecoveryCodes(page: Page, button: RegExp): Promise<string[]> {
  const codes = (await page.getByTestId('recovery-codes').innerText()).split(/\s+/).filter(Boolean);
  expect(codes.length).toBeGreaterThanOrEqual(5);
  await page.getByLabel('I have saved my recovery codes').check();
  await page.getByRole('button', { name: button }).click();
  return codes;
}

/**
 * Signs in through the sign-in page: password, then the code (enrolling an authenticator first
 * when the account has none, and acknowledging the recovery codes that follow).
 */
export async function signIn(
  page: Page,
  account: Account,
  opts: { recoveryCode?: string } = {},
): Promise<void> {
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Username').fill(account.username);
  await page.getByLabel(/^Password/).fill(account.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  const code = page.getByLabel('Authentication code');
  await code.waitFor();
  const enrolling = await page.getByTestId('totp-qr').isVisible();
  if (enrolling) account.secret = await readEnrolmentSecret(page);
  if (opts.recoveryCode && !enrolling) {
    await page.getByRole('button', { name: /use a recovery code/i }).click();
    await page.getByLabel('Recovery code').fill(opts.recoveryCode);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    return;
  }
  await code.fill(await nextCode(account));
  await page
    .getByRole('button', { name: enrolling ? 'Confirm and sign in' : 'Sign in', exact: true })
    .click();
  if (enrolling) {
    await page.getByTestId('recovery-codes').waitFor();
    await acknowledgeRecoveryCodes(page, /continue to the console/i);
  }
}

/** A signed-in console of a user made for the test, with the user's API token for set-up. */
export interface SignedInConsole {
  console: ConsolePage;
  account: Account;
  /** `{ authorization: 'Bearer ...' }` of the same user, to prepare data through the API. */
  headers: Record<string, string>;
}

/**
 * Creates a user of the role through the user service (no back door; two-factor on), then
 * signs in through the console, enrolling the authenticator as a new user does.
 */
export async function signInAs(
  server: TestServer,
  browser: Browser,
  base: string,
  role: 'administrator' | 'contributor',
  username: string,
): Promise<SignedInConsole> {
  const made = await createTestUser(server, role, username);
  const account: Account = { username, password: made.password };
  const c = await openConsole(browser, base);
  await c.page.goto('/');
  await signIn(c.page, account);
  await c.page.waitForURL(/\/dashboard$/);
  return { console: c, account, headers: made.headers };
}
