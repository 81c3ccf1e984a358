import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../lib/errors.js';
import {
  CACHE_IMMUTABLE,
  CACHE_REVALIDATE,
  consoleSecurityHeaders,
  isClientRoute,
  isTopLevelFile,
} from './console-fns.js';

/**
 * Where `npm run build` puts the console: packages/web/dist. This file sits at the same depth
 * in src/ (tests) and dist/ (the built server), so one relative path serves both.
 */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../web/dist', import.meta.url));

export interface ConsoleOptions {
  /** The built console; defaults to packages/web/dist. */
  dir?: string;
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trustlink: console not built</title></head>
<body><main>
<h1>The Trustlink web console is not built</h1>
<p>The management API is running (see <a href="/api/docs">/api/docs</a>), but the console's
files were not found. From the repository, run <code>npm run build</code> (or only the console:
<code>npm run build -w packages/web</code>), then restart <code>trustlink serve</code>.</p>
</main></body></html>
`;

function notFound(req: FastifyRequest): never {
  throw new NotFoundError(`No route ${req.method} ${req.url.split('?')[0]}`);
}

/**
 * Serves the web console (packages/web/dist) on the management app: hashed assets with long
 * cache lifetimes, index.html for every client route, never anything under the API or probe
 * paths. The files are public; all data comes from /api/v1, which checks access itself.
 * A missing build leaves the server running and / explains how to build the console.
 */
export async function registerConsoleRoutes(
  app: FastifyInstance,
  opts: ConsoleOptions = {},
): Promise<void> {
  const root = path.resolve(opts.dir ?? DEFAULT_CONSOLE_DIR);
  const built = existsSync(path.join(root, 'index.html'));
  const security = consoleSecurityHeaders();

  await app.register(async (scope) => {
    const page = (reply: FastifyReply) =>
      built
        ? reply
            .headers(security)
            .header('cache-control', CACHE_REVALIDATE)
            .sendFile('index.html', root, { cacheControl: false })
        : reply
            .status(503)
            .headers(security)
            .header('cache-control', 'no-store')
            .type('text/html; charset=utf-8')
            .send(NOT_BUILT_PAGE);

    if (built) {
      await scope.register(fastifyStatic, { root, serve: false, dotfiles: 'deny' });
      scope.get(
        '/assets/*',
        { config: { access: 'public' }, schema: { hide: true } },
        async (req, reply) => {
          const rest = (req.params as { '*': string })['*'];
          return reply
            .headers(security)
            .header('cache-control', CACHE_IMMUTABLE)
            .sendFile(`assets/${rest}`, root, { cacheControl: false });
        },
      );
    }

    scope.get(
      '/*',
      { config: { access: 'public' }, schema: { hide: true } },
      async (req, reply) => {
        const pathname = req.url.split('?')[0] ?? '/';
        if (isClientRoute(pathname)) return page(reply);
        if (built && isTopLevelFile(pathname)) {
          return reply
            .headers(security)
            .header('cache-control', CACHE_REVALIDATE)
            .sendFile(pathname.slice(1), root, { cacheControl: false });
        }
        return notFound(req);
      },
    );
  });
}
