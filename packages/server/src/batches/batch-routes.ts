import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditContextOf, principalOf } from '../auth/principal.js';
import type { BatchService } from './batch-service.js';
import { batchInputSchema, batchSchema } from './batch-types.js';

const idParams = z.object({ id: z.string().min(1).max(64) });
const deviceSchema = z.object({
  id: z.string(),
  batchId: z.string(),
  state: z.enum(['registered', 'enrolled', 'renewed', 'revoked', 'expired']),
  registeredAt: z.string(),
  enrolledAt: z.string().nullable(),
  renewedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  expiredAt: z.string().nullable(),
  lastSeenAt: z.string().nullable(),
});
const uploadResult = z.object({ added: z.number(), alreadyInBatch: z.number() });

/** Uploads of 100,000 IDs are about 7 MB of JSON; the rest of the API keeps the small limit. */
export const DEVICE_UPLOAD_BODY_LIMIT = 64 * 1024 * 1024;
const MAX_UPLOAD_ENTRIES = 1_000_000;

/** /api/v1/batches and their devices. */
export function registerBatchRoutes(app: FastifyInstance, batches: BatchService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['batches'];
  r.get(
    '/api/v1/batches',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'listBatches',
        summary: 'List batches with device counts',
        response: { 200: z.object({ items: z.array(batchSchema) }) },
      },
    },
    async (req) => ({ items: await batches.list(principalOf(req).instanceId) }),
  );
  r.get(
    '/api/v1/batches/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'getBatch',
        summary: 'Get a batch',
        params: idParams,
        response: { 200: batchSchema },
      },
    },
    async (req) => batches.get(principalOf(req).instanceId, req.params.id),
  );
  r.post(
    '/api/v1/batches',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'createBatch',
        summary: 'Create a batch',
        body: batchInputSchema,
        response: { 201: batchSchema },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(await batches.create(principalOf(req).instanceId, req.body, auditContextOf(req))),
  );
  r.put(
    '/api/v1/batches/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'replaceBatch',
        summary: 'Change a batch (name, policy, attribute filter)',
        params: idParams,
        body: batchInputSchema,
        response: { 200: batchSchema },
      },
    },
    async (req) =>
      batches.update(principalOf(req).instanceId, req.params.id, req.body, auditContextOf(req)),
  );
  r.delete(
    '/api/v1/batches/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'deleteBatch',
        summary: 'Delete a batch without enrolled devices',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await batches.remove(principalOf(req).instanceId, req.params.id, auditContextOf(req));
      return reply.status(204).send(null);
    },
  );
  r.get(
    '/api/v1/batches/:id/devices',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'listBatchDevices',
        summary: 'Devices of a batch, a page at a time',
        params: idParams,
        querystring: z.object({
          offset: z.coerce.number().int().min(0).default(0),
          limit: z.coerce.number().int().min(1).max(1000).default(50),
          state: z.enum(['registered', 'enrolled', 'renewed', 'revoked', 'expired']).optional(),
        }),
        response: { 200: z.object({ items: z.array(deviceSchema), total: z.number() }) },
      },
    },
    async (req) => batches.listDevices(principalOf(req).instanceId, req.params.id, req.query),
  );
  r.post(
    '/api/v1/batches/:id/devices',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'addBatchDevice',
        summary: 'Register one device ID into the batch',
        params: idParams,
        body: z.object({ deviceId: z.string().max(128) }).strict(),
        response: { 200: uploadResult },
      },
    },
    async (req) =>
      batches.register(
        principalOf(req).instanceId,
        req.params.id,
        [req.body.deviceId],
        auditContextOf(req),
      ),
  );
  r.post(
    '/api/v1/batches/:id/devices/upload',
    {
      config: { access: 'user' },
      bodyLimit: DEVICE_UPLOAD_BODY_LIMIT,
      schema: {
        tags,
        operationId: 'uploadBatchDevices',
        summary: 'Register a list of device IDs, all or nothing: {"devices":["<64 hex>", ...]}',
        params: idParams,
        // Entries are checked one by one by the service, so that every bad one is reported.
        body: z
          .object({
            devices: z.array(z.unknown()).min(1, 'the list is empty').max(MAX_UPLOAD_ENTRIES),
          })
          .strict(),
        response: { 200: uploadResult },
      },
    },
    async (req) =>
      batches.register(
        principalOf(req).instanceId,
        req.params.id,
        req.body.devices,
        auditContextOf(req),
      ),
  );
  r.delete(
    '/api/v1/batches/:id/devices/:deviceId',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'removeBatchDevice',
        summary: 'Take a never-enrolled device ID out of the batch',
        params: z.object({ id: z.string().min(1).max(64), deviceId: z.string().max(128) }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await batches.unregister(
        principalOf(req).instanceId,
        req.params.id,
        req.params.deviceId,
        auditContextOf(req),
      );
      return reply.status(204).send(null);
    },
  );
}
