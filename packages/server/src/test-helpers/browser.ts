import { X509Certificate, createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; tests never download a browser. */
export const CHROMIUM_PATH = process.env.TRUSTLINK_CHROMIUM ?? '/usr/bin/chromium';

/** Where tests save screenshots of each screen (gitignored). */
export const SCREENSHOT_DIR = fileURLToPath(
  new URL('../../../../test-results/screenshots/', import.meta.url),
);

/** base64 SHA-256 of a certificate's DER SubjectPublicKeyInfo (Chromium's SPKI pin format). */
export function spkiPin(cert: X509Certificate): string {
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/** The pin of the instance root, from its PEM (what `trustlink serve` prints). */
export function rootPin(rootPem: string): string {
  return spkiPin(new X509Certificate(rootPem));
}

/**
 * Starts headless Chromium that trusts exactly the given keys. Chromium on Linux takes no CA
 * file; instead of ignoring every TLS error (ignoreHTTPSErrors), it is told the SPKI pins it
 * may accept, so the test still fails against any other certificate. The pin is the instance
 * root's key: a chain that contains it is accepted, as a device or operator pinning the root
 * would accept it. The flags keep Chromium off the network and out of the sandbox (root).
 */
export async function launchBrowser(pins: string[]): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
      `--ignore-certificate-errors-spki-list=${pins.join(',')}`,
    ],
  });
}

/** The certificate chain a TLS server presents, leaf first (for checks in tests). */
export function presentedCertificates(port: number): Promise<X509Certificate[]> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect(
      { host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false },
      () => {
        const out: X509Certificate[] = [];
        const seen = new Set<string>();
        let c = sock.getPeerCertificate(true);
        while (c && c.raw && !seen.has(c.fingerprint256)) {
          seen.add(c.fingerprint256);
          out.push(new X509Certificate(c.raw));
          c = c.issuerCertificate;
        }
        sock.end();
        resolve(out);
      },
    );
    sock.on('error', reject);
  });
}

/**
 * The problems left after taking out the expected ones. The browser logs every HTTP error
 * answer as a console error, so a test that provokes one (a 401 while signed out, a 403 for a
 * contributor) names it here; anything else still fails the test.
 */
export function unexpectedProblems(problems: string[], expected: RegExp[] = []): string[] {
  return problems.filter((p) => !expected.some((e) => e.test(p)));
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Console errors, uncaught exceptions, CSP violations and failed requests seen so far. */
  problems: string[];
  /** Saves a full-page screenshot as test-results/screenshots/<name>.png. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * A fresh browser context (own cookies and storage) on the console at `baseUrl`, recording
 * everything that would show up red in the developer tools.
 */
export async function openConsole(
  browser: Browser,
  baseUrl: string,
  opts: { colorScheme?: 'light' | 'dark'; viewport?: { width: number; height: number } } = {},
): Promise<ConsolePage> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    colorScheme: opts.colorScheme ?? 'light',
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    ignoreHTTPSErrors: false,
  });
  const page = await context.newPage();
  // Fail within seconds rather than the default half minute: every step here is local.
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()} at ${m.location().url}`);
  });
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A request the page itself aborted (navigation away, superseded fetch) is not a fault.
    const why = r.failure()?.errorText ?? '';
    if (!/ERR_ABORTED/.test(why)) problems.push(`request failed: ${r.url()} ${why}`);
  });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    context,
    page,
    problems,
    async screenshot(name) {
      const file = path.join(SCREENSHOT_DIR, `${name}.png`);
      // Toasts come and go with timing; leave them out so pictures show the screen itself.
      // From the top: a page scrolled by the test would show its fixed header mid-picture.
      await page.evaluate('window.scrollTo(0, 0)');
      // Finished transitions: a dialog that is closing is gone, one that is opening is there.
      await page.screenshot({
        path: file,
        fullPage: true,
        animations: 'disabled',
        style: '.mantine-Notifications-root { display: none !important; }',
      });
      return file;
    },
    close: () => context.close(),
  };
}
