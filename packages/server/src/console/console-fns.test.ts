import { describe, expect, it } from 'vitest';
import {
  CONSOLE_CSP,
  consoleSecurityHeaders,
  isClientRoute,
  isTopLevelFile,
} from './console-fns.js';

describe('isClientRoute', () => {
  const cases: [string, string, boolean][] = [
    ['ok/root', '/', true],
    ['ok/setup', '/setup', true],
    ['ok/login', '/login', true],
    ['ok/nested', '/users/alice', true],
    ['ok/trailing slash', '/dashboard/', true],
    ['ok/name starting like a reserved one', '/apis', true],
    ['fail/api root', '/api', false],
    ['fail/api path', '/api/v1/nothing', false],
    ['fail/healthz', '/healthz', false],
    ['fail/readyz below', '/readyz/x', false],
    ['fail/metrics', '/metrics', false],
    ['fail/device api', '/device/v1/x', false],
    ['fail/est', '/.well-known/est/cacerts', false],
    ['fail/pki', '/pki/crl/1', false],
    ['fail/file name', '/missing.js', false],
    ['fail/nested file name', '/assets/x.css', false],
    ['fail/relative', 'setup', false],
  ];
  for (const [name, path, expected] of cases) {
    it(name, () => expect(isClientRoute(path)).toBe(expected));
  }
});

describe('isTopLevelFile', () => {
  const cases: [string, string, boolean][] = [
    ['ok/favicon', '/favicon.svg', true],
    ['ok/script', '/color-scheme.js', true],
    ['fail/nested', '/assets/a.js', false],
    ['fail/dot file', '/.env', false],
    ['fail/traversal', '/..%2fsecret.txt', false],
    ['fail/no extension', '/setup', false],
  ];
  for (const [name, path, expected] of cases) {
    it(name, () => expect(isTopLevelFile(path)).toBe(expected));
  }
});

describe('console security headers', () => {
  it('ok/no inline or eval script, no framing, no referrer', () => {
    const script = CONSOLE_CSP.split('; ').find((d) => d.startsWith('script-src'));
    expect(script).toBe("script-src 'self'");
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
    expect(CONSOLE_CSP).not.toContain('unsafe-eval');
    const headers = consoleSecurityHeaders();
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['x-content-type-options']).toBe('nosniff');
  });
});
