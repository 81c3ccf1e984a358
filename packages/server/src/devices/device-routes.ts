import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditContextOf, principalOf } from '../auth/principal.js';
import { REVOCATION_REASON_NAMES } from '../pki/crl-fns.js';
import type { DeviceService } from './device-service.js';

const STATES = ['registered', 'enrolled', 'renewed', 'revoked', 'expired'] as const;
const counts = z.object({
  devices: z.number(),
  enrolled: z.number().describe('enrolled devices, including renewed ones'),
  renewed: z.number(),
  expired: z.number(),
  revoked: z.number(),
});
const deviceSchema = z.object({
  id: z.string(),
  batchId: z.string(),
  state: z.enum(STATES),
  registeredAt: z.string(),
  enrolledAt: z.string().nullable(),
  renewedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  expiredAt: z.string().nullable(),
  lastSeenAt: z.string().nullable(),
  currentSerial: z.string().nullable(),
  certNotAfter: z.string().nullable(),
  renewAt: z.string().nullable(),
  enrolMethod: z.string().nullable(),
  keyType: z.string().nullable(),
  firmwareDigest: z
    .string()
    .nullable()
    .describe('SHA-256 of the running image as the device reports it (not attested)'),
  revocationReason: z.string().nullable(),
});
const detailSchema = deviceSchema.extend({
  batchName: z.string(),
  policyId: z.string(),
  policyName: z.string(),
  certificates: z.array(
    z.object({
      id: z.string(),
      serial: z.string(),
      issuerId: z.string(),
      notBefore: z.string(),
      notAfter: z.string(),
      status: z.enum(['valid', 'expired', 'revoked']),
      revocationReason: z.string().nullable(),
      revokedAt: z.string().nullable(),
      current: z.boolean(),
    }),
  ),
  hubSync: z
    .array(
      z.object({
        id: z.string(),
        topic: z.string(),
        status: z.enum(['pending', 'done', 'failed']),
        attempts: z.number(),
        lastError: z.string().nullable(),
        createdAt: z.string(),
        doneAt: z.string().nullable(),
      }),
    )
    .describe('what the platform asked of outside systems (hubs) about this device, newest first'),
});
const idParams = z.object({ id: z.string().min(1).max(128) });

/** /api/v1/devices: list, dashboard summary, detail, revocation. */
export function registerDeviceRoutes(app: FastifyInstance, devices: DeviceService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['devices'];
  r.get(
    '/api/v1/devices',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'listDevices',
        summary: 'Devices, filtered by batch, state and device ID prefix, a page at a time',
        querystring: z.object({
          batchId: z.string().min(1).max(64).optional(),
          state: z.enum(STATES).optional(),
          q: z.string().max(64).optional().describe('device ID prefix (hex)'),
          offset: z.coerce.number().int().min(0).default(0),
          limit: z.coerce.number().int().min(1).max(1000).default(50),
        }),
        response: { 200: z.object({ items: z.array(deviceSchema), total: z.number() }) },
      },
    },
    async (req) => devices.list(principalOf(req).instanceId, req.query),
  );
  r.get(
    '/api/v1/devices/summary',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'deviceSummary',
        summary: 'Device counts by state, in all and per batch (the dashboard)',
        response: {
          200: z.object({
            total: counts.extend({ registered: z.number() }),
            batches: z.array(z.object({ batchId: z.string(), batchName: z.string(), counts })),
          }),
        },
      },
    },
    async (req) => devices.summary(principalOf(req).instanceId),
  );
  r.get(
    '/api/v1/devices/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'getDevice',
        summary: 'A device: state and times, certificates, hub sync',
        params: idParams,
        response: { 200: detailSchema },
      },
    },
    async (req) => devices.get(principalOf(req).instanceId, req.params.id),
  );
  r.post(
    '/api/v1/devices/:id/revoke',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'revokeDevice',
        summary:
          'Revoke a device: its certificates, sessions and connections end, its hub is told; final',
        params: idParams,
        body: z.object({ reason: z.enum(REVOCATION_REASON_NAMES) }).strict(),
        response: { 200: detailSchema },
      },
    },
    async (req) => {
      const { instanceId } = principalOf(req);
      await devices.revoke(instanceId, req.params.id, req.body.reason, auditContextOf(req));
      return devices.get(instanceId, req.params.id);
    },
  );
}
