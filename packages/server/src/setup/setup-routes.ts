import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { totpEnrolmentSchema } from '../auth/auth-routes.js';
import { emailSchema, nameSchema, passwordSchema, usernameSchema } from '../users/users-fns.js';
import { userSchema } from '../users/users-schemas.js';
import type { SetupClaimService } from './setup-claim-service.js';

const tags = ['setup'];
const token = z.string().min(1).max(100);

/**
 * First run: the one-time setup link (`/setup#token=...`) leads here. Public routes: the token
 * itself is the credential.
 */
export function registerSetupRoutes(
  app: FastifyInstance,
  deps: { setupClaim: SetupClaimService; instanceOf(req: FastifyRequest): string },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/v1/setup/check',
    {
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'checkSetupLink',
        summary: 'Check the setup link and get a new authenticator secret for the administrator',
        body: z.object({ token, username: usernameSchema.optional() }),
        response: {
          200: z.object({
            valid: z.literal(true),
            expiresAt: z.string().describe('finish the setup (POST /api/v1/setup) by then'),
            totp: totpEnrolmentSchema,
          }),
        },
      },
    },
    async (req) => {
      const res = await deps.setupClaim.check(
        deps.instanceOf(req),
        req.body.token,
        req.body.username ?? 'administrator',
      );
      return { valid: true as const, ...res };
    },
  );

  r.post(
    '/api/v1/setup',
    {
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'claimInstance',
        summary: 'Create the first administrator with the setup link and a code from the app',
        description:
          'Works once: the link is used up, the instance is claimed and the administrator created together. Answers with the recovery codes, shown only here.',
        body: z.object({
          token,
          username: usernameSchema,
          email: emailSchema,
          firstName: nameSchema,
          lastName: nameSchema,
          password: passwordSchema,
          enrolmentId: z.uuid(),
          code: z.string().min(1).max(20),
        }),
        response: {
          201: z.object({ user: userSchema, recoveryCodes: z.array(z.string()) }),
        },
      },
    },
    async (req, reply) => {
      const res = await deps.setupClaim.claim(deps.instanceOf(req), req.body, req.ip);
      return reply.status(201).send(res);
    },
  );
}
