import type { FastifyInstance } from 'fastify';

/**
 * Who may call a route. Every route declares one in `config.access`; a route without it stops
 * the server at start, so nothing is ever open by omission.
 * - public: anyone (health, the setup and sign-in steps, CRL/OCSP);
 * - user: any signed-in user or API token (Administrator or Contributor);
 * - administrator: administrators only;
 * - device: a device proven by TLS client certificate or proof header;
 * - manufacturing: a production-line station with a manufacturing credential (the route checks
 *   it; the credential opens no other route).
 */
export type RouteAccess = 'public' | 'user' | 'administrator' | 'device' | 'manufacturing';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

/** Routes registered by documentation plugins; they serve only the public API description. */
const DOC_PREFIX = '/api/docs';

/** A registered route and who may call it. */
export interface DeclaredRoute {
  method: string;
  url: string;
  access: RouteAccess;
}

const declared = new WeakMap<FastifyInstance, DeclaredRoute[]>();

/** Every route registered on an app so far, with its access (for the route enumeration test). */
export function declaredRoutes(app: FastifyInstance): DeclaredRoute[] {
  return [...(declared.get(app) ?? [])];
}

export function requireAccessDeclarations(app: FastifyInstance): void {
  const list: DeclaredRoute[] = [];
  declared.set(app, list);
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { access?: RouteAccess };
    const remember = (access: RouteAccess) => {
      for (const method of [route.method].flat()) list.push({ method, url: route.url, access });
    };
    if (config.access) {
      remember(config.access);
      return;
    }
    if (route.url === DOC_PREFIX || route.url.startsWith(`${DOC_PREFIX}/`)) {
      route.config = { ...config, access: 'public' };
      remember('public');
      return;
    }
    throw new Error(
      `route ${String(route.method)} ${route.url} declares no access (config.access)`,
    );
  });
}
