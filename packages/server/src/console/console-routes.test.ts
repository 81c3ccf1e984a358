import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerProblemHandler } from '../lib/problem-handler.js';
import { requireAccessDeclarations } from '../lib/route-access.js';
import { CACHE_IMMUTABLE, CONSOLE_CSP } from './console-fns.js';
import { registerConsoleRoutes } from './console-routes.js';

/** A management-like app: access declarations enforced, problem details, one API route. */
async function appWith(dir: string): Promise<FastifyInstance> {
  const app = Fastify();
  requireAccessDeclarations(app);
  registerProblemHandler(app);
  app.get('/healthz', { config: { access: 'public' } }, async () => ({ status: 'alive' }));
  app.get('/api/v1/thing', { config: { access: 'public' } }, async () => ({ thing: 1 }));
  await registerConsoleRoutes(app, { dir });
  await app.ready();
  return app;
}

describe('console routes with a built console', () => {
  let dir: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-console-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(path.join(dir, 'assets', 'index-AbC123.js'), 'export {};');
    writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(path.join(dir, '.secret'), 'no');
    app = await appWith(dir);
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const url of ['/', '/setup', '/login', '/dashboard', '/users/alice', '/setup?x=1']) {
    it(`ok/client route ${url} serves index.html, revalidated, with the CSP`, async () => {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.body).toContain('<title>console</title>');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });
  }

  it('ok/hashed asset is cached for a year', async () => {
    const res = await app.inject({ method: 'GET', url: '/assets/index-AbC123.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe(CACHE_IMMUTABLE);
  });

  it('ok/top-level file is served and revalidated', async () => {
    const res = await app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('ok/HEAD of a client route', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/dashboard' });
    expect(res.statusCode).toBe(200);
  });

  it('ok/API and probe routes are not shadowed', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({
      status: 'alive',
    });
    expect((await app.inject({ method: 'GET', url: '/api/v1/thing' })).json()).toEqual({
      thing: 1,
    });
  });

  const notFound: [string, string][] = [
    ['fail/unknown API path is a problem 404, not the page', '/api/v1/nothing'],
    ['fail/bare /api', '/api'],
    ['fail/under a probe', '/readyz/more'],
    ['fail/EST path', '/.well-known/est/cacerts'],
    ['fail/missing asset', '/assets/nope-123.js'],
    ['fail/missing top-level file', '/nope.png'],
    ['fail/dot file', '/.secret'],
    ['fail/traversal out of assets', '/assets/..%2f..%2fetc%2fpasswd'],
    ['fail/encoded traversal at top', '/..%2findex.html'],
  ];
  for (const [name, url] of notFound) {
    it(name, async () => {
      const res = await app.inject({ method: 'GET', url });
      expect([403, 404]).toContain(res.statusCode);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    });
  }

  it('fail/POST to a client route is not the page', async () => {
    const res = await app.inject({ method: 'POST', url: '/dashboard' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});

describe('console routes without a build', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await appWith(path.join(os.tmpdir(), 'trustlink-no-console-here'));
  });
  afterAll(async () => {
    await app.close();
  });

  it('ok/the server runs and / says how to build the console', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('npm run build');
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
  });

  it('ok/API routes still answer', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('fail/assets are plain 404 problems', async () => {
    const res = await app.inject({ method: 'GET', url: '/assets/index.js' });
    expect(res.statusCode).toBe(404);
  });
});
