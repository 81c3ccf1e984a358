import type { FastifyInstance } from 'fastify';

/**
 * Who may call a route. Every route declares one in `config.access`; a route without it stops
 * the server at start, so nothing is ever open by omission.
 * - public: anyone (health, the setup and sign-in steps, CRL/OCSP);
 * - user: any signed-in user or API token (Administrator or Contributor);
 * - administrator: administrators only;
 * - device: a device proven by TLS client certificate or proof header.
 */
export type RouteAccess = 'public' | 'user' | 'administrator' | 'device';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

/** Routes registered by documentation plugins; they serve only the public API description. */
const DOC_PREFIX = '/api/docs';

export function requireAccessDeclarations(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { access?: RouteAccess };
    if (config.access) return;
    if (route.url === DOC_PREFIX || route.url.startsWith(`${DOC_PREFIX}/`)) {
      route.config = { ...config, access: 'public' };
      return;
    }
    throw new Error(
      `route ${String(route.method)} ${route.url} declares no access (config.access)`,
    );
  });
}
