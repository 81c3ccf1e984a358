import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditContextOf, principalOf } from '../auth/principal.js';
import type { EnrolmentTokenService } from './enrolment-token-service.js';

const tokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  batchId: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  createdAt: z.string(),
});

/** /api/v1/enrolment-tokens: administrators only; values are returned once, at creation. */
export function registerEnrolmentTokenRoutes(
  app: FastifyInstance,
  tokens: EnrolmentTokenService,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['enrolment tokens'];
  r.get(
    '/api/v1/enrolment-tokens',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'listEnrolmentTokens',
        summary: 'List tokens (never their values)',
        response: { 200: z.object({ items: z.array(tokenSchema) }) },
      },
    },
    async (req) => ({ items: await tokens.list(principalOf(req).instanceId) }),
  );
  r.post(
    '/api/v1/enrolment-tokens',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'createEnrolmentToken',
        summary: 'Create a token; its value is in this answer only',
        body: z
          .object({
            name: z
              .string()
              .trim()
              .min(1)
              .max(64)
              .regex(
                /^[\p{L}\p{N} ._-]+$/u,
                'may hold letters, digits, spaces, dot, underscore and hyphen',
              ),
            batchId: z.string().min(1),
            notBefore: z.iso.datetime({ offset: true }),
            notAfter: z.iso.datetime({ offset: true }),
          })
          .strict(),
        response: { 201: tokenSchema.extend({ value: z.string() }) },
      },
    },
    async (req, reply) => {
      const { token, value } = await tokens.create(
        principalOf(req).instanceId,
        req.body,
        auditContextOf(req),
      );
      return reply
        .status(201)
        .header('cache-control', 'no-store')
        .send({ ...token, value });
    },
  );
  r.delete(
    '/api/v1/enrolment-tokens/:id',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'deleteEnrolmentToken',
        summary: 'Delete a token',
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await tokens.remove(principalOf(req).instanceId, req.params.id, auditContextOf(req));
      return reply.status(204).send(null);
    },
  );
}
