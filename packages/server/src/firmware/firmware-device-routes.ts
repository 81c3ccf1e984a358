import {
  IMAGE_CONTENT_TYPE,
  MANIFEST_CONTENT_TYPE,
  updateParamsSchema,
  updateReportSchema,
} from '@trustlink/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { DeviceAuthenticator, DeviceIdentity } from '../devices/device-authenticator.js';
import { UnauthorizedError } from '../lib/errors.js';
import { sendDownload } from './blob-reply.js';
import type { FirmwareDeviceService } from './firmware-device-service.js';

export interface FirmwareDeviceRoutesDeps {
  devices: FirmwareDeviceService;
  /** Which device a request comes from (provided by the device-authentication domain). */
  authenticateDevice: DeviceAuthenticator;
}

/**
 * The device side of updates (PROTOCOL.md "Update"), on the device listener: the manifest,
 * the image with HTTP ranges, the detached CMS signature of Linux bundles, and reports.
 */
export function registerFirmwareDeviceRoutes(
  app: FastifyInstance,
  deps: FirmwareDeviceRoutesDeps,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['device-updates'];
  const { devices } = deps;

  /** The proven device; a bare 401 otherwise (the device learns no reason). */
  async function deviceOf(req: FastifyRequest): Promise<DeviceIdentity> {
    const device = await deps.authenticateDevice(req);
    if (!device) throw new UnauthorizedError();
    return device;
  }

  r.get(
    '/device/v1/updates/:id/manifest',
    {
      config: { access: 'device' },
      schema: {
        tags,
        operationId: 'getUpdateManifest',
        summary: 'The signed manifest of an update (JWS compact, application/jose)',
        params: updateParamsSchema,
      },
    },
    async (req, reply) => {
      const jws = await devices.manifest(await deviceOf(req), req.params.id);
      return reply.header('cache-control', 'no-store').type(MANIFEST_CONTENT_TYPE).send(jws);
    },
  );
  r.get(
    '/device/v1/updates/:id/image',
    {
      config: { access: 'device' },
      schema: {
        tags,
        operationId: 'getUpdateImage',
        summary: 'The image of an update; Range requests resume (206), ETag is its SHA-256',
        params: updateParamsSchema,
      },
    },
    async (req, reply) => {
      const file = await devices.image(await deviceOf(req), req.params.id);
      return sendDownload(req, reply, file, IMAGE_CONTENT_TYPE);
    },
  );
  r.get(
    '/device/v1/updates/:id/signature',
    {
      config: { access: 'device' },
      schema: {
        tags,
        operationId: 'getUpdateSignature',
        summary: 'The detached CMS signature (DER) of a Linux bundle update',
        params: updateParamsSchema,
      },
    },
    async (req, reply) => {
      const stream = await devices.signature(await deviceOf(req), req.params.id);
      return reply.type('application/pkcs7-signature').send(stream);
    },
  );
  r.post(
    '/device/v1/updates/:id/report',
    {
      config: { access: 'device' },
      schema: {
        tags,
        operationId: 'reportUpdate',
        summary: 'Report progress: downloading, installing, installed, or failed with a detail',
        params: updateParamsSchema,
        body: updateReportSchema,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await devices.report(await deviceOf(req), req.params.id, req.body);
      return reply.status(204).send(null);
    },
  );
}
