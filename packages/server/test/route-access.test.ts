import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declaredRoutes, type DeclaredRoute } from '../src/lib/route-access.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const ACCESS = ['public', 'user', 'administrator', 'device', 'manufacturing'];

/** A concrete path for a route pattern: every parameter gets a fresh id. */
function concrete(url: string): string {
  return url.replace(/:[A-Za-z0-9_]+/g, () => randomUUID()).replace(/\*$/, 'x');
}

/**
 * Walks every route both listeners registered (not a hand-kept list), so a route added later by
 * any domain is covered the moment it exists.
 */
for (const dialect of TEST_DIALECTS) {
  describe(`route access on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    let routes: { app: 'management' | 'device'; route: DeclaredRoute }[];
    const send = (app: 'management' | 'device', r: DeclaredRoute, headers = {}) =>
      (app === 'management' ? server.request : server.deviceRequest)(r.method, concrete(r.url), {
        headers,
      });

    beforeAll(async () => {
      server = await startTestServer(dialect);
      ({ admin, contributor } = await createTestUsers(server));
      const of = (name: 'management' | 'device', app: FastifyInstance) =>
        declaredRoutes(app).map((route) => ({ app: name, route }));
      routes = [...of('management', server.apps.management), ...of('device', server.apps.device)];
    });
    afterAll(async () => {
      await server?.close();
    });

    it('ok/every registered route declares who may call it', () => {
      expect(routes.length).toBeGreaterThan(10);
      for (const { route } of routes)
        expect(ACCESS, `${route.method} ${route.url}`).toContain(route.access);
      const admins = routes
        .filter((r) => r.route.access === 'administrator')
        .map((r) => r.route.url);
      expect(admins).toContain('/api/v1/users');
      expect(admins).toContain('/api/v1/audit/verify');
    });

    it('ok/the OpenAPI document has every management route, each with an operationId', async () => {
      const doc = (await server.request('GET', '/api/docs/json')).json<{
        paths: Record<
          string,
          Record<string, { operationId?: string; security?: unknown[]; description?: string }>
        >;
        components: { securitySchemes: Record<string, unknown> };
      }>();
      expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
        'apiToken',
        'manufacturingCredential',
        'session',
      ]);
      for (const { app, route } of routes) {
        if (app !== 'management' || !route.url.startsWith('/api/v1') || route.method === 'HEAD')
          continue;
        const op =
          doc.paths[route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[route.method.toLowerCase()];
        expect(op?.operationId, `${route.method} ${route.url}`).toBeTruthy();
        // The document says who may call it, as the server enforces.
        expect(Boolean(op?.security?.length), `${route.method} ${route.url}`).toBe(
          route.access !== 'public',
        );
        if (route.access === 'administrator')
          expect(op?.description).toMatch(/administrators only/);
      }
    });

    it('fail/anonymous callers get 401 on every user and administrator route', async () => {
      const guarded = routes.filter(
        (r) => r.route.access === 'user' || r.route.access === 'administrator',
      );
      expect(guarded.length).toBeGreaterThan(5);
      for (const { app, route } of guarded) {
        const res = await send(app, route);
        expect(res.status, `${route.method} ${route.url}`).toBe(401);
      }
    });

    it('fail/device routes refuse a caller without device credentials, never with a 500', async () => {
      const deviceRoutes = routes.filter((r) => r.route.access === 'device');
      expect(deviceRoutes.map((r) => r.route.url)).toEqual(
        expect.arrayContaining([
          '/device/v1/enrol',
          '/device/v1/status',
          '/.well-known/est/simpleenroll',
        ]),
      );
      for (const { app, route } of deviceRoutes) {
        const res = await send(app, route, admin.headers);
        // Without a body, the schema answers first (400/415); with none needed, 401.
        expect(res.status, `${route.method} ${route.url}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${route.method} ${route.url}`).toBeLessThan(500);
        if (route.method === 'GET') expect(res.status, `${route.method} ${route.url}`).toBe(401);
      }
    });

    it('fail/a bad token gets 401 on every user and administrator route', async () => {
      const bad = { authorization: `Bearer tlk_${'A'.repeat(43)}` };
      for (const { app, route } of routes.filter(
        (r) => r.route.access === 'administrator' || r.route.access === 'user',
      )) {
        expect((await send(app, route, bad)).status, `${route.method} ${route.url}`).toBe(401);
      }
    });

    it('fail/contributors get 403 on every administrator route', async () => {
      for (const { app, route } of routes.filter((r) => r.route.access === 'administrator')) {
        const res = await send(app, route, contributor.headers);
        expect(res.status, `${route.method} ${route.url}`).toBe(403);
        if (route.method !== 'HEAD')
          expect(res.json()).toMatchObject({
            type: expect.stringMatching(/administrator-required$/),
          });
      }
    });

    it('ok/contributors pass the access check on user routes, administrators on all, without a 500', async () => {
      const passes = async (p: TestPrincipal, list: typeof routes) => {
        for (const { app, route } of list) {
          const res = await send(app, route, p.headers);
          expect(res.status, `${route.method} ${route.url}`).not.toBe(401);
          // Whatever an empty request lacks, the answer is a 4xx, never a crash.
          expect(res.status, `${route.method} ${route.url}`).toBeLessThan(500);
          if (res.status === 403 && route.method !== 'HEAD') {
            expect(res.json<{ type: string }>().type, `${route.method} ${route.url}`).not.toMatch(
              /administrator-required$/,
            );
          }
        }
      };
      // Sign-out is left out: it ends nothing for a token, but keep the runs side-effect free.
      const safe = routes.filter((r) => r.route.url !== '/api/v1/auth/sign-out');
      await passes(
        contributor,
        safe.filter((r) => r.route.access === 'user'),
      );
      await passes(
        admin,
        safe.filter((r) => r.route.access === 'user' || r.route.access === 'administrator'),
      );
    });
  });
}
