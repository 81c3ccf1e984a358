import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { hubTokenRequestSchema, hubTokenResponseSchema } from '@trustlink/protocol';
import type { AuthenticatedDevice } from '../../enrolment/device-auth.js';
import type { DeviceRequestContext } from '../../enrolment/device-audit.js';
import { requestContext } from '../../enrolment/device-auth.js';
import type { AuthorizerTokens } from './aws-authorizer-token-service.js';

export interface HubTokenRouteDeps {
  tokens: AuthorizerTokens;
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

/** The hub token on the device port: device-authenticated like check-in, audited. */
export function registerHubTokenRoutes(app: FastifyInstance, deps: HubTokenRouteDeps): void {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/device/v1/hub-token',
    {
      config: { access: 'device' },
      schema: {
        tags: ['device'],
        operationId: 'deviceHubToken',
        summary: "A signed token for the AWS IoT custom authorizer of the device's hub",
        body: hubTokenRequestSchema,
        response: { 200: hubTokenResponseSchema },
      },
    },
    async (req) => {
      const ctx = requestContext(req, deps.instanceOf(req), 'device-api');
      const action = 'device.hub-token';
      const who = await deps.authenticate(req, ctx, action);
      ctx.deviceId = who.device.id;
      const answer = await deps.tokens.issue(ctx.instanceId, who.device.id);
      await deps.audit.ok(ctx, action, {
        authorizerName: answer.authorizerName,
        expiresAt: answer.expiresAt,
        via: who.via,
      });
      return answer;
    },
  );
}
