import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditContextOf, principalOf } from '../auth/principal.js';
import { AppError, BadRequestError, PayloadTooLargeError } from '../lib/errors.js';
import { sendDownload } from './blob-reply.js';
import { parseAttributeParam, type AttributeFilter } from './firmware-fns.js';
import type { FirmwareService } from './firmware-service.js';
import type { RolloutService } from './firmware-rollout-service.js';
import {
  FIRMWARE_FORMATS,
  MAX_ATTRIBUTES,
  SOURCE_FORMATS,
  UPDATE_STATUSES,
  assignmentSchema,
  descriptionSchema,
  firmwareEditSchema,
  firmwareNameSchema,
  firmwareSchema,
  rolloutSchema,
  securityVersionSchema,
  updateViewSchema,
  versionSchema,
  type Attribute,
} from './firmware-types.js';

class UnsupportedMediaTypeError extends AppError {
  readonly status = 415;
  readonly type = 'unsupported-media-type';
}

const idParams = z.object({ id: z.string().min(1).max(64) });
/** `attr=name:value`, repeated; Fastify gives one string or an array. */
const attrParam = z
  .union([z.string().max(400), z.array(z.string().max(400)).max(MAX_ATTRIBUTES)])
  .optional()
  .describe('name:value, repeated for each attribute');

/** Parses the attr parameters; every bad one is named. An image's attribute names are unique. */
function attributesOf(param: string | string[] | undefined, uniqueNames: boolean): Attribute[] {
  const list = param === undefined ? [] : Array.isArray(param) ? param : [param];
  const errors: { path: string; message: string }[] = [];
  const out: Attribute[] = [];
  for (const [i, text] of list.entries()) {
    const r = parseAttributeParam(text);
    if (!r.ok) errors.push({ path: `querystring.attr.${i}`, message: r.reason });
    else if (uniqueNames && out.some((a) => a.name === r.attribute.name))
      errors.push({
        path: `querystring.attr.${i}`,
        message: `attribute ${r.attribute.name} twice`,
      });
    else out.push(r.attribute);
  }
  if (errors.length)
    throw new BadRequestError(
      errors.map((e) => `${e.path}: ${e.message}`).join('; '),
      { errors },
      'validation-failed',
    );
  return out;
}

export interface FirmwareRoutesDeps {
  catalog: FirmwareService;
  rollouts: RolloutService;
  /** Largest upload body (config firmwareMaxBytes). */
  maxBytes: number;
}

/** /api/v1/firmware, and the firmware of a batch: assignment and rollout progress. */
export function registerFirmwareRoutes(app: FastifyInstance, deps: FirmwareRoutesDeps): void {
  const { catalog, rollouts, maxBytes } = deps;
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['firmware'];
  // Uploads stream from the request: the parser hands the body over unread.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) =>
    done(null, payload),
  );

  r.post(
    '/api/v1/firmware',
    {
      config: { access: 'administrator' },
      bodyLimit: maxBytes,
      schema: {
        tags,
        operationId: 'uploadFirmware',
        summary: 'Upload an image (body: application/octet-stream; metadata in the query)',
        description:
          'The body is the image (input=binary) or Intel HEX text (input=intel-hex), streamed to storage. Over firmwareMaxBytes: 413. A bad HEX record: 400 intel-hex-invalid with its line.',
        querystring: z.object({
          name: firmwareNameSchema,
          version: versionSchema,
          securityVersion: securityVersionSchema.default(0),
          format: z.enum(FIRMWARE_FORMATS).default('raw'),
          input: z.enum(SOURCE_FORMATS).default('binary'),
          description: descriptionSchema.default(''),
          attr: attrParam,
        }),
        response: { 201: firmwareSchema },
      },
    },
    async (req, reply) => {
      const body = req.body as Readable | undefined;
      if (!body || typeof (body as Readable).iterator !== 'function') {
        throw new UnsupportedMediaTypeError(
          'send the image as the request body with content-type application/octet-stream',
        );
      }
      const declared = Number(req.headers['content-length']);
      if (declared > maxBytes)
        throw new PayloadTooLargeError(`the upload is larger than the limit of ${maxBytes} bytes`);
      const { attr, ...meta } = req.query;
      const input = { ...meta, attributes: attributesOf(attr, true) };
      // Stopping early (a bad HEX line, the size limit) must not destroy the request, or the
      // client would see a reset instead of the answer; Node discards the rest of the body.
      const source = body.iterator({ destroyOnReturn: false });
      const created = await catalog.upload(
        principalOf(req).instanceId,
        input,
        source,
        auditContextOf(req),
      );
      return reply.status(201).send(created);
    },
  );
  r.get(
    '/api/v1/firmware',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'listFirmware',
        summary: 'List firmware, optionally filtered by attributes (attr=name:value, and/or)',
        querystring: z.object({ operator: z.enum(['and', 'or']).default('and'), attr: attrParam }),
        response: { 200: z.object({ items: z.array(firmwareSchema) }) },
      },
    },
    async (req) => {
      const filter: AttributeFilter = {
        operator: req.query.operator,
        filters: attributesOf(req.query.attr, false),
      };
      return { items: await catalog.list(principalOf(req).instanceId, filter) };
    },
  );
  r.get(
    '/api/v1/firmware/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'getFirmware',
        summary: 'Get firmware with its signatures and the batches it is assigned to',
        params: idParams,
        response: { 200: firmwareSchema },
      },
    },
    async (req) => catalog.get(principalOf(req).instanceId, req.params.id),
  );
  r.patch(
    '/api/v1/firmware/:id',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'editFirmware',
        summary: 'Change name, description or attributes (the image and versions are fixed)',
        params: idParams,
        body: firmwareEditSchema,
        response: { 200: firmwareSchema },
      },
    },
    async (req) =>
      catalog.edit(principalOf(req).instanceId, req.params.id, req.body, auditContextOf(req)),
  );
  r.delete(
    '/api/v1/firmware/:id',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'deleteFirmware',
        summary: 'Delete firmware that no batch has assigned',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await catalog.remove(principalOf(req).instanceId, req.params.id, auditContextOf(req));
      return reply.status(204).send(null);
    },
  );
  r.get(
    '/api/v1/firmware/:id/image',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'downloadFirmware',
        summary: 'Download the stored image (Range requests supported; ETag is its SHA-256)',
        params: idParams,
      },
    },
    async (req, reply) => {
      const file = await catalog.image(principalOf(req).instanceId, req.params.id);
      return sendDownload(req, reply, file, 'application/octet-stream', `${file.sha256}.bin`);
    },
  );
  r.get(
    '/api/v1/firmware/:id/signatures/:signatureId/file',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'downloadFirmwareSignature',
        summary: 'Download a native signature: the signed ESP32 image, or the CMS .p7s (DER)',
        params: z.object({ id: z.string().min(1).max(64), signatureId: z.string().min(1).max(64) }),
      },
    },
    async (req, reply) => {
      const file = await catalog.signatureFile(
        principalOf(req).instanceId,
        req.params.id,
        req.params.signatureId,
      );
      return file.kind === 'cms'
        ? sendDownload(req, reply, file, 'application/pkcs7-signature', `${req.params.id}.p7s`)
        : sendDownload(req, reply, file, 'application/octet-stream', `${req.params.id}-signed.bin`);
    },
  );

  const batchTags = ['batches'];
  r.put(
    '/api/v1/batches/:id/firmware',
    {
      config: { access: 'administrator' },
      schema: {
        tags: batchTags,
        operationId: 'assignBatchFirmware',
        summary: "Assign firmware to a batch: signs it with the key and starts its devices' update",
        params: idParams,
        body: assignmentSchema,
        response: { 200: updateViewSchema },
      },
    },
    async (req) =>
      rollouts.assign(principalOf(req).instanceId, req.params.id, req.body, auditContextOf(req)),
  );
  r.delete(
    '/api/v1/batches/:id/firmware',
    {
      config: { access: 'administrator' },
      schema: {
        tags: batchTags,
        operationId: 'unassignBatchFirmware',
        summary: 'End the batch update: devices are no longer told about it',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await rollouts.unassign(principalOf(req).instanceId, req.params.id, auditContextOf(req));
      return reply.status(204).send(null);
    },
  );
  r.get(
    '/api/v1/batches/:id/rollout',
    {
      config: { access: 'user' },
      schema: {
        tags: batchTags,
        operationId: 'getBatchRollout',
        summary:
          'Progress of the batch update: counts per status and the devices with times (or one device)',
        params: idParams,
        querystring: z.object({
          offset: z.coerce.number().int().min(0).default(0),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          status: z.enum(UPDATE_STATUSES).optional(),
          // One device's place in the update (its page in the console), without paging.
          deviceId: z
            .string()
            .regex(/^[0-9a-f]{64}$/, 'must be a device ID: 64 lowercase hex characters')
            .optional(),
        }),
        response: { 200: rolloutSchema },
      },
    },
    async (req) => rollouts.rollout(principalOf(req).instanceId, req.params.id, req.query),
  );
}
