import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { UserService } from '../users/users-service.js';
import type { ApiTokenRecord } from './api-token-repo.js';
import type { ApiTokenService } from './api-token-service.js';
import { auditContextOf, principalOf } from './principal.js';

const tags = ['api tokens'];

const tokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  hint: z.string().describe('last 4 characters of the token'),
  owner: z.object({ id: z.string(), username: z.string().nullable() }),
  status: z.enum(['active', 'expired', 'revoked']),
  createdAt: z.string(),
  expiresAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

/** /api/v1/tokens: API tokens for automation, each acting with its owner's role. */
export function registerTokenRoutes(
  app: FastifyInstance,
  deps: { apiTokens: ApiTokenService; users: UserService; now: () => Date },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { apiTokens, users } = deps;
  const view = (t: ApiTokenRecord, names: Map<string, string>) => ({
    id: t.id,
    name: t.name,
    hint: t.hint,
    owner: { id: t.userId, username: names.get(t.userId) ?? null },
    status: t.revokedAt
      ? ('revoked' as const)
      : Date.parse(t.expiresAt) <= deps.now().getTime()
        ? ('expired' as const)
        : ('active' as const),
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
  });
  const usernames = async (instanceId: string) =>
    new Map((await users.list(instanceId)).map((u) => [u.id, u.username]));

  r.get(
    '/api/v1/tokens',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'listApiTokens',
        summary: "List API tokens: my own, or everyone's for administrators (unless mine=true)",
        querystring: z.object({ mine: z.stringbool().default(false) }),
        response: { 200: z.object({ tokens: z.array(tokenSchema) }) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const all = p.role === 'administrator' && !req.query.mine;
      const list = await apiTokens.list(p.instanceId, all ? undefined : p.userId);
      const names = await usernames(p.instanceId);
      return { tokens: list.map((t) => view(t, names)) };
    },
  );

  r.post(
    '/api/v1/tokens',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'createApiToken',
        summary: 'Create an API token for myself; the token is shown only in this answer',
        body: z.object({
          name: z.string().trim().min(1).max(100),
          expiresInDays: z.number().int().min(1).max(3650).default(90),
        }),
        response: { 201: tokenSchema.extend({ token: z.string() }) },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { token, record } = await apiTokens.create(
        p.instanceId,
        { id: p.userId, username: p.username },
        req.body,
        auditContextOf(req),
      );
      const names = new Map([[p.userId, p.username]]);
      return reply.status(201).send({ ...view(record, names), token });
    },
  );

  r.delete(
    '/api/v1/tokens/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'revokeApiToken',
        summary: 'Revoke an API token (my own; administrators any)',
        params: z.object({ id: z.uuid('must be a token id') }),
        response: { 200: tokenSchema },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const rec = await apiTokens.revoke(
        p.instanceId,
        req.params.id,
        { userId: p.userId, asAdmin: p.role === 'administrator' },
        auditContextOf(req),
      );
      return view(rec, await usernames(p.instanceId));
    },
  );
}
