import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { databaseTokenRequestSchema, databaseTokenResponseSchema } from '@trustlink/protocol';
import { z } from 'zod';
import type { AuthenticatedDevice } from '../enrolment/device-auth.js';
import type { DeviceRequestContext } from '../enrolment/device-audit.js';
import { requestContext } from '../enrolment/device-auth.js';
import { jwksSchema } from './database-direct-routes.js';
import type { DatabaseDirectService } from './database-direct-service.js';
import type { DatabaseTokenService } from './database-token-service.js';
import { DATA_PATH } from './database-token-service.js';
import { DOCUMENT_MAX_BYTES, type DeviceDataService } from './device-data-service.js';

export interface DatabaseDirectDeviceRouteDeps {
  connections: DatabaseDirectService;
  tokens: DatabaseTokenService;
  data: DeviceDataService;
  instanceOf(req: FastifyRequest): string;
  /** Device authentication of the device API: TLS client certificate or bearer session. */
  authenticate(
    req: FastifyRequest,
    ctx: DeviceRequestContext,
    action: string,
  ): Promise<AuthenticatedDevice>;
  audit: {
    ok(ctx: DeviceRequestContext, action: string, details: Record<string, unknown>): Promise<void>;
  };
}

/**
 * Database direct on the device port: the token a device asks for (device-authenticated like
 * check-in), the data endpoint that takes that token alone (so applications on the device can
 * write without the device's key), and each connection's JWKS for database services.
 */
export function registerDatabaseDirectDeviceRoutes(
  app: FastifyInstance,
  deps: DatabaseDirectDeviceRouteDeps,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['device'];

  r.post(
    '/device/v1/database-token',
    {
      config: { access: 'device' },
      schema: {
        tags,
        operationId: 'deviceDatabaseToken',
        summary: "A short-lived JWT for the device's database direct connection",
        body: databaseTokenRequestSchema,
        response: { 200: databaseTokenResponseSchema },
      },
    },
    async (req) => {
      const ctx = requestContext(req, deps.instanceOf(req), 'device-api');
      const action = 'device.database-token';
      const who = await deps.authenticate(req, ctx, action);
      ctx.deviceId = who.device.id;
      const answer = await deps.tokens.issue(ctx.instanceId, who.device);
      await deps.audit.ok(ctx, action, {
        connectionId: answer.connection.connectionId,
        expiresAt: answer.expiresAt,
        via: who.via,
      });
      return answer;
    },
  );

  r.post(
    `${DATA_PATH}/:collection`,
    {
      config: { access: 'device' },
      bodyLimit: DOCUMENT_MAX_BYTES + 1024,
      schema: {
        tags,
        operationId: 'deviceDatabaseWrite',
        summary: "Write a JSON document into the device's database (Authorization: Bearer <JWT>)",
        params: z.object({ collection: z.string().min(1).max(128) }),
        headers: z.object({ authorization: z.string().max(8300).optional() }),
        body: z.record(z.string(), z.unknown()),
        response: {
          201: z.object({ collection: z.string(), deviceId: z.string(), receivedAt: z.string() }),
        },
      },
    },
    async (req, reply) => {
      const ctx = requestContext(req, deps.instanceOf(req), 'device-api');
      const written = await deps.data.write(
        ctx,
        req.headers.authorization,
        req.params.collection,
        req.body,
      );
      return reply.status(201).send(written);
    },
  );

  r.get(
    '/device/v1/database-connections/:id/jwks.json',
    {
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'databaseConnectionJwks',
        summary: "A connection's JWT verification keys (JWKS), for database services",
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 200: jwksSchema },
      },
    },
    async (req, reply) => {
      const jwks = await deps.connections.jwks(deps.instanceOf(req), req.params.id);
      void reply.header('cache-control', 'public, max-age=300');
      return jwks;
    },
  );
}
