import type { SwaggerTransform } from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { RouteAccess } from '../lib/route-access.js';
import { SESSION_COOKIE } from './access-hook.js';

/** The two ways to authenticate, as OpenAPI security schemes. */
export const OPENAPI_SECURITY_SCHEMES = {
  apiToken: {
    type: 'http' as const,
    scheme: 'bearer',
    description: "An API token (`tlk_...`) from POST /api/v1/tokens; acts with its owner's role.",
  },
  session: {
    type: 'apiKey' as const,
    in: 'cookie' as const,
    name: SESSION_COOKIE,
    description:
      'The console session from sign-in. State-changing requests also need the x-csrf-token header.',
  },
  manufacturingCredential: {
    type: 'http' as const,
    scheme: 'bearer',
    description:
      'A manufacturing credential (`tlm_...`) from POST /api/v1/manufacturing-credentials; it opens only the /api/v1/manufacturing routes.',
  },
};

const NOTE: Partial<Record<RouteAccess, string>> = {
  user: 'Access: any signed-in user or API token.',
  administrator: 'Access: administrators only (contributors get 403).',
  manufacturing: 'Access: a manufacturing credential only (API tokens and sessions get 401).',
};

/**
 * The zod schema transform, plus each route's declared access written into the document:
 * security requirements and a line in the description, so the API reference says who may call
 * what.
 */
export const openApiTransform: SwaggerTransform = (arg) => {
  const out = jsonSchemaTransform(arg as Parameters<typeof jsonSchemaTransform>[0]);
  const access = (arg.route.config as { access?: RouteAccess } | undefined)?.access;
  const note = access && NOTE[access];
  if (!note) return out;
  const schema = out.schema as { description?: string; security?: unknown };
  schema.security =
    access === 'manufacturing'
      ? [{ manufacturingCredential: [] }]
      : [{ apiToken: [] }, { session: [] }];
  schema.description = schema.description ? `${schema.description}\n\n${note}` : note;
  return out;
};
