/**
 * Pure rules of the console's static serving: which paths are client routes, and the security
 * headers every console response carries.
 */

/**
 * Paths that belong to APIs and probes. The console never answers under them, so an unknown
 * API path gets the API's problem-details 404 rather than the console's HTML.
 */
const RESERVED = /^\/(?:api|healthz|readyz|metrics|device|\.well-known|pki)(?:\/|$)/;

/** Whether a path is a client-side route, for which the single page (index.html) is served. */
export function isClientRoute(pathname: string): boolean {
  if (!pathname.startsWith('/') || RESERVED.test(pathname)) return false;
  // A last segment with a dot names a file; a missing file is a 404, never the page.
  const last = pathname.slice(pathname.lastIndexOf('/') + 1);
  return !last.includes('.');
}

/** Whether a path names a top-level file of the build (favicon, the colour-scheme script). */
export function isTopLevelFile(pathname: string): boolean {
  return /^\/[A-Za-z0-9][A-Za-z0-9._-]*\.[A-Za-z0-9]+$/.test(pathname) && !pathname.includes('..');
}

/**
 * The Content-Security-Policy of the console.
 * - Scripts: only our own files ('self'); no inline script, no eval. This is what stops XSS.
 * - Styles: 'self' plus 'unsafe-inline'. Mantine writes its theme variables and some component
 *   styles into <style> elements at run time, and react-remove-scroll does too; a nonce would
 *   need the HTML rewritten per response and every library to forward it. Inline CSS cannot run
 *   code, and the classic CSS exfiltration (url() to another host) is closed by img-src,
 *   font-src and connect-src being 'self' (data: images make no request).
 * - frame-ancestors 'none': the console is never framed (clickjacking).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** Headers on every console response (page and assets). */
export function consoleSecurityHeaders(): Record<string, string> {
  return {
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    // The setup token travels in the URL fragment; send no referrer anywhere, ever.
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  };
}

/** Cache policy: hashed assets never change; the page and unhashed files are revalidated. */
export const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
export const CACHE_REVALIDATE = 'no-cache';
