import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../src/console/console-fns.js';
import {
  launchBrowser,
  openConsole,
  rootPin,
  unexpectedProblems,
} from '../../src/test-helpers/browser.js';
import { startTestServer, type TestServer } from '../../src/test-helpers/test-server.js';
import { SIGNED_OUT_PROBE } from './console-flows.js';

// The browser tier checks the console itself; the data behind it is the API's, whose tests
// run on every dialect. One dialect (the embedded default) keeps this tier quick.
describe('console static serving in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
    base = `https://127.0.0.1:${new URL(server.managementUrl).port}`;
    browser = await launchBrowser([rootPin(server.rootPem)]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('ok/the console loads at / over TLS trusted through the instance root, without errors', async () => {
    const c = await openConsole(browser, base);
    try {
      const res = await c.page.goto('/');
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-security-policy']).toBe(CONSOLE_CSP);
      // Nobody is signed in: the console asks for it, and keeps where the user was going.
      await c.page.getByRole('heading', { name: /sign in/i }).waitFor();
      expect(new URL(c.page.url()).pathname).toBe('/login');
      expect(await c.page.title()).toBe('Trustlink');
      expect(unexpectedProblems(c.problems, [SIGNED_OUT_PROBE])).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('ok/a deep link to a client route serves the console', async () => {
    const res = await server.request('GET', '/users/someone');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    const c = await openConsole(browser, base);
    try {
      await c.page.goto('/users/someone');
      await c.page.getByRole('heading', { name: /sign in/i }).waitFor();
      expect(new URL(c.page.url()).searchParams.get('next')).toBe('/users/someone');
      expect(unexpectedProblems(c.problems, [SIGNED_OUT_PROBE])).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('ok/hashed assets are cached for good; API paths are not shadowed', async () => {
    const html = (await server.request('GET', '/')).text;
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const res = await server.request('GET', asset!);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const api = await server.request('GET', '/api/v1/nothing');
    expect(api.status).toBe(404);
    expect(api.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await server.request('GET', '/readyz')).json()).toMatchObject({ status: 'ready' });
  });

  it('fail/the CSP stops a script injected into the page', async () => {
    const c = await openConsole(browser, base);
    try {
      await c.page.goto('/login');
      await c.page.getByRole('heading', { name: /sign in/i }).waitFor();
      const outcome = await c.page.evaluate(
        () =>
          new Promise<{ ran: boolean; blocked: string | null }>((resolve) => {
            let blocked: string | null = null;
            document.addEventListener('securitypolicyviolation', (e) => {
              blocked = e.violatedDirective;
            });
            const s = document.createElement('script');
            s.textContent = 'window.__injected = true;';
            document.head.append(s);
            setTimeout(
              () =>
                resolve({
                  ran: (window as unknown as { __injected?: boolean }).__injected === true,
                  blocked,
                }),
              200,
            );
          }),
      );
      expect(outcome.ran).toBe(false);
      expect(outcome.blocked).toMatch(/^script-src/);
    } finally {
      await c.close();
    }
  });

  it('fail/a browser that does not trust the instance root refuses the console', async () => {
    const stranger = await launchBrowser(['AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=']);
    try {
      const page = await stranger.newPage();
      const err = await page.goto(`${base}/`).then(
        () => null,
        (e: Error) => e.message,
      );
      expect(err).toMatch(/ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await stranger.close();
    }
  });
});
