import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditContextOf, principalOf } from '../auth/principal.js';
import type { UserService } from './users-service.js';
import { newUserSchema, userPatchSchema, userSchema } from './users-schemas.js';

const idParams = z.object({ id: z.uuid('must be a user id') });
const tags = ['users'];

/** /api/v1/users: administrators manage the users of their instance. */
export function registerUserRoutes(app: FastifyInstance, deps: { users: UserService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { users } = deps;
  const admin = { access: 'administrator' as const };

  r.get(
    '/api/v1/users',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'listUsers',
        summary: 'List users',
        response: { 200: z.object({ users: z.array(userSchema) }) },
      },
    },
    async (req) => ({ users: await users.list(principalOf(req).instanceId) }),
  );

  r.post(
    '/api/v1/users',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'createUser',
        summary: 'Create a user (two-factor on unless switched off)',
        body: newUserSchema,
        response: { 201: userSchema },
      },
    },
    async (req, reply) => {
      const user = await users.create(principalOf(req).instanceId, req.body, auditContextOf(req));
      return reply.status(201).send(user);
    },
  );

  r.get(
    '/api/v1/users/:id',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'getUser',
        summary: 'Get one user',
        params: idParams,
        response: { 200: userSchema },
      },
    },
    async (req) => users.get(principalOf(req).instanceId, req.params.id),
  );

  r.patch(
    '/api/v1/users/:id',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'updateUser',
        summary: 'Edit, disable or enable a user, switch their two-factor, set a new password',
        description:
          'The username never changes. Switching two-factor off forgets the enrolled authenticator; switching it on makes the user enrol at their next sign-in. Disabling a user or setting their password ends their sessions.',
        params: idParams,
        body: userPatchSchema,
        response: { 200: userSchema },
      },
    },
    async (req) => {
      const { username: _u, ...patch } = req.body;
      return users.update(principalOf(req).instanceId, req.params.id, patch, auditContextOf(req));
    },
  );

  r.delete(
    '/api/v1/users/:id',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'deleteUser',
        summary: 'Delete a user with their sessions and API tokens (audit entries stay)',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await users.delete(principalOf(req).instanceId, req.params.id, auditContextOf(req));
      return reply.status(204).send(null);
    },
  );

  r.post(
    '/api/v1/users/:id/two-factor/reset',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'resetUserTwoFactor',
        summary: "Forget a user's authenticator app; they enrol a new one at next sign-in",
        params: idParams,
        response: { 200: userSchema },
      },
    },
    async (req) =>
      users.resetTwoFactor(principalOf(req).instanceId, req.params.id, auditContextOf(req)),
  );
}
