import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditContextOf, principalOf } from '../auth/principal.js';
import type { DatabaseDirectService } from './database-direct-service.js';
import { connectionInputSchema, connectionSchema } from './database-direct-types.js';

const idParams = z.object({ id: z.string().min(1).max(64) });
export const jwksSchema = z.object({
  keys: z.array(
    z.object({
      kty: z.string(),
      crv: z.string(),
      x: z.string(),
      y: z.string(),
      kid: z.string(),
      alg: z.string(),
      use: z.string(),
    }),
  ),
});

/**
 * /api/v1/database-connections: every signed-in user reads connections and their public keys
 * (credentials are never returned, to anyone); administrators create, change and remove them.
 */
export function registerDatabaseDirectRoutes(
  app: FastifyInstance,
  deps: { connections: DatabaseDirectService },
): void {
  const { connections } = deps;
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['database-direct'];
  const base = '/api/v1/database-connections';

  r.get(
    base,
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'listDatabaseConnections',
        summary: 'List database direct connections (credentials never shown)',
        response: { 200: z.object({ items: z.array(connectionSchema) }) },
      },
    },
    async (req) => ({ items: await connections.list(principalOf(req).instanceId) }),
  );
  r.get(
    `${base}/:id`,
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'getDatabaseConnection',
        summary: 'Get a database direct connection (credentials never shown)',
        params: idParams,
        response: { 200: connectionSchema },
      },
    },
    async (req) => connections.get(principalOf(req).instanceId, req.params.id),
  );
  r.get(
    `${base}/:id/public-key`,
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'getDatabaseConnectionPublicKey',
        summary: "The connection's JWT verification key as PEM (SubjectPublicKeyInfo)",
        params: idParams,
        response: { 200: z.string() },
      },
    },
    async (req, reply) => {
      const c = await connections.get(principalOf(req).instanceId, req.params.id);
      const file = `${c.name.replace(/[^A-Za-z0-9._-]+/g, '_') || 'connection'}.pub.pem`;
      return reply
        .type('application/x-pem-file')
        .header('content-disposition', `attachment; filename="${file}"`)
        .send(c.publicKeyPem);
    },
  );
  r.get(
    `${base}/:id/jwks`,
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'getDatabaseConnectionJwks',
        summary: "The connection's JWT verification keys as a JWKS (RFC 7517)",
        params: idParams,
        response: { 200: jwksSchema },
      },
    },
    async (req) => connections.jwks(principalOf(req).instanceId, req.params.id),
  );
  r.post(
    base,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'createDatabaseConnection',
        summary: 'Create a database direct connection and its JWT signing key',
        body: connectionInputSchema,
        response: { 201: connectionSchema },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(await connections.create(principalOf(req).instanceId, req.body, auditContextOf(req))),
  );
  r.put(
    `${base}/:id`,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'replaceDatabaseConnection',
        summary: 'Change a database direct connection (a credential left out keeps its value)',
        params: idParams,
        body: connectionInputSchema,
        response: { 200: connectionSchema },
      },
    },
    async (req) =>
      connections.update(principalOf(req).instanceId, req.params.id, req.body, auditContextOf(req)),
  );
  r.delete(
    `${base}/:id`,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'deleteDatabaseConnection',
        summary: 'Delete a database direct connection no policy uses, and its signing key',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await connections.remove(principalOf(req).instanceId, req.params.id, auditContextOf(req));
      return reply.status(204).send(null);
    },
  );
}
