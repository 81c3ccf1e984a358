import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditContextOf, principalOf } from '../auth/principal.js';
import type { PolicyService } from './policy-service.js';
import { policyInputSchema, policySchema } from './policy-types.js';

const idParams = z.object({ id: z.string().min(1).max(64) });

/** /api/v1/policies: any signed-in user may read and change policies (U2). */
export function registerPolicyRoutes(app: FastifyInstance, policies: PolicyService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['policies'];
  r.get(
    '/api/v1/policies',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'listPolicies',
        summary: 'List policies',
        response: { 200: z.object({ items: z.array(policySchema) }) },
      },
    },
    async (req) => ({ items: await policies.list(principalOf(req).instanceId) }),
  );
  r.get(
    '/api/v1/policies/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'getPolicy',
        summary: 'Get a policy',
        params: idParams,
        response: { 200: policySchema },
      },
    },
    async (req) => policies.get(principalOf(req).instanceId, req.params.id),
  );
  r.post(
    '/api/v1/policies',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'createPolicy',
        summary: 'Create a policy',
        body: policyInputSchema,
        response: { 201: policySchema },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(await policies.create(principalOf(req).instanceId, req.body, auditContextOf(req))),
  );
  r.put(
    '/api/v1/policies/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'replacePolicy',
        summary: 'Change a policy',
        params: idParams,
        body: policyInputSchema,
        response: { 200: policySchema },
      },
    },
    async (req) =>
      policies.update(principalOf(req).instanceId, req.params.id, req.body, auditContextOf(req)),
  );
  r.delete(
    '/api/v1/policies/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'deletePolicy',
        summary: 'Delete a policy no batch uses',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await policies.remove(principalOf(req).instanceId, req.params.id, auditContextOf(req));
      return reply.status(204).send(null);
    },
  );
}
