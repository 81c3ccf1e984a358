import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, principalOf } from '../auth/principal.js';
import type { AuditService } from './audit-service.js';

const tags = ['audit'];

export const auditEntrySchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  actor: z.object({
    type: z.enum(['user', 'token', 'device', 'system']),
    id: z.string().nullable(),
    name: z.string(),
  }),
  action: z.string(),
  target: z
    .object({ type: z.string(), id: z.string().nullable(), name: z.string().nullable() })
    .nullable(),
  result: z.enum(['ok', 'denied', 'failed']),
  sourceAddress: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

export const verificationSchema = z.object({
  ok: z.boolean(),
  entries: z.number().int(),
  lastSeq: z.number().int(),
  headSeq: z.number().int().nullable(),
  checkpoints: z.number().int(),
  lastCheckpoint: z.object({ seq: z.number().int(), at: z.string() }).nullable(),
  uncheckpointed: z.number().int(),
  problems: z.array(
    z.object({ seq: z.number().int().nullable(), kind: z.string(), message: z.string() }),
  ),
});

const isoTime = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });

/** /api/v1/audit: the last activity, the full log with filters, and verification. */
export function registerAuditRoutes(app: FastifyInstance, deps: { audit: AuditService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { audit } = deps;

  r.get(
    '/api/v1/audit/recent',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'recentAuditEntries',
        summary: "The last N entries (the dashboard's last activity)",
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) }),
        response: { 200: z.object({ entries: z.array(auditEntrySchema) }) },
      },
    },
    async (req) => ({ entries: await audit.recent(principalOf(req).instanceId, req.query.limit) }),
  );

  r.get(
    '/api/v1/audit',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'listAuditEntries',
        summary: 'The audit log, newest first, with paging, time range and filters',
        description:
          'Pass the `nextBefore` of one page as `before` to get the next. `q` matches the action, actor, target, source address and details, ignoring case.',
        querystring: z.object({
          before: z.coerce.number().int().min(1).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          from: isoTime.optional(),
          to: isoTime.optional(),
          q: z.string().min(1).max(200).optional(),
          action: z.string().min(1).max(100).optional(),
          result: z.enum(['ok', 'denied', 'failed']).optional(),
        }),
        response: {
          200: z.object({
            entries: z.array(auditEntrySchema),
            nextBefore: z.number().int().nullable(),
          }),
        },
      },
    },
    async (req) => {
      const { q, from, to, ...rest } = req.query;
      return audit.list(principalOf(req).instanceId, {
        ...rest,
        text: q,
        // Stored times are UTC ISO strings, so bounds are normalised the same way to compare.
        from: from && new Date(from).toISOString(),
        to: to && new Date(to).toISOString(),
      });
    },
  );

  r.post(
    '/api/v1/audit/verify',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'verifyAuditLog',
        summary: 'Recompute the chain and check the signed checkpoints; names where it breaks',
        response: { 200: verificationSchema },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const result = await audit.verify(p.instanceId);
      await audit.record({
        instanceId: p.instanceId,
        actor: actorOf(p),
        action: 'audit.verify',
        result: result.ok ? 'ok' : 'failed',
        sourceAddress: req.ip,
        details: { lastSeq: result.lastSeq, problems: result.problems.length },
      });
      return result;
    },
  );
}
