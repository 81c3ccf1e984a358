import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditContextOf, principalOf } from '../auth/principal.js';
import type { HubService } from './hub-service.js';
import { hubStatusSchema, type HubStatusService } from './hub-status-service.js';
import { toolInputSchema, toolSchema, type HubToolService } from './hub-tool-service.js';
import { hubInputSchema, hubSchema } from './hub-types.js';

const idParams = z.object({ id: z.string().min(1).max(64) });
const toolParams = z.object({ id: z.string().min(1).max(64), toolId: z.string().min(1).max(64) });

/** The zip's file name: the tool's name, kept to safe characters. */
const zipName = (name: string) => `${name.replace(/[^A-Za-z0-9._-]+/g, '_') || 'tool'}.zip`;

const createdToolSchema = z.object({
  tool: toolSchema,
  credentials: z.object({
    clientId: z.string(),
    host: z.string(),
    port: z.number().int(),
    caCertificate: z.string().nullable(),
    certificate: z.string(),
    /** Present only when the platform made the key: shown this once, never stored. */
    privateKey: z.string().nullable(),
  }),
  /** The same credentials as a zip (base64), with a README for mosquitto_sub and Node-RED. */
  zip: z.string(),
});

/**
 * /api/v1/hubs: every signed-in user reads hubs (secrets are never returned, to anyone);
 * administrators create, change and remove them and manage their tools (U2, H5).
 */
export function registerHubRoutes(
  app: FastifyInstance,
  deps: { hubs: HubService; tools: HubToolService; status: HubStatusService },
): void {
  const { hubs, tools, status } = deps;
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['hubs'];

  r.get(
    '/api/v1/hubs',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'listHubs',
        summary: 'List IoT hubs (secrets obscured)',
        response: { 200: z.object({ items: z.array(hubSchema) }) },
      },
    },
    async (req) => ({ items: await hubs.list(principalOf(req).instanceId) }),
  );
  r.get(
    '/api/v1/hubs/status',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'getHubStatus',
        summary: 'How many configured hubs are reachable, with a check per hub',
        response: { 200: hubStatusSchema },
      },
    },
    async (req) => status.status(principalOf(req).instanceId),
  );
  r.get(
    '/api/v1/hubs/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'getHub',
        summary: 'Get an IoT hub (secrets obscured)',
        params: idParams,
        response: { 200: hubSchema },
      },
    },
    async (req) => hubs.get(principalOf(req).instanceId, req.params.id),
  );
  r.post(
    '/api/v1/hubs',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'createHub',
        summary: 'Create an IoT hub',
        body: hubInputSchema,
        response: { 201: hubSchema },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(await hubs.create(principalOf(req).instanceId, req.body, auditContextOf(req))),
  );
  r.put(
    '/api/v1/hubs/:id',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'replaceHub',
        summary: 'Change an IoT hub (a secret left out keeps its value)',
        params: idParams,
        body: hubInputSchema,
        response: { 200: hubSchema },
      },
    },
    async (req) =>
      hubs.update(principalOf(req).instanceId, req.params.id, req.body, auditContextOf(req)),
  );
  r.delete(
    '/api/v1/hubs/:id',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'deleteHub',
        summary: 'Delete an IoT hub no policy uses (its tools are revoked)',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await hubs.remove(principalOf(req).instanceId, req.params.id, auditContextOf(req));
      return reply.status(204).send(null);
    },
  );

  r.get(
    '/api/v1/hubs/:id/tools',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'listHubTools',
        summary: 'List the third-party tools of an MQTT or Mosquitto hub',
        params: idParams,
        response: { 200: z.object({ items: z.array(toolSchema) }) },
      },
    },
    async (req) => ({ items: await tools.list(principalOf(req).instanceId, req.params.id) }),
  );
  r.post(
    '/api/v1/hubs/:id/tools',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'createHubTool',
        summary: 'Add a tool: certificate, client ID and (unless a CSR is sent) a key, once',
        description:
          'The private key is in this answer only. With `?format=zip` the answer is the zip itself (application/zip).',
        params: idParams,
        querystring: z.object({ format: z.enum(['json', 'zip']).default('json') }),
        body: toolInputSchema,
        response: { 201: createdToolSchema },
      },
    },
    async (req, reply) => {
      const made = await tools.create(
        principalOf(req).instanceId,
        req.params.id,
        req.body,
        auditContextOf(req),
      );
      void reply.header('cache-control', 'no-store');
      // A Buffer is sent as is: Fastify does not run the JSON serializer on it.
      if (req.query.format === 'zip')
        return (reply as unknown as FastifyReply)
          .status(201)
          .type('application/zip')
          .header('content-disposition', `attachment; filename="${zipName(made.tool.name)}"`)
          .send(made.zip);
      return reply.status(201).send({ ...made, zip: made.zip.toString('base64') });
    },
  );
  r.get(
    '/api/v1/hubs/:id/tools/:toolId/credentials.zip',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'getHubToolCredentials',
        summary: "Download a tool's credentials zip again (without its key, which was never kept)",
        params: toolParams,
      },
    },
    async (req, reply) => {
      const { name, zip } = await tools.credentialsZip(
        principalOf(req).instanceId,
        req.params.id,
        req.params.toolId,
      );
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="${zipName(name)}"`)
        .send(zip);
    },
  );
  r.delete(
    '/api/v1/hubs/:id/tools/:toolId',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'deleteHubTool',
        summary: 'Remove a tool: its certificate is revoked and its connections cut',
        params: toolParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await tools.remove(
        principalOf(req).instanceId,
        req.params.id,
        req.params.toolId,
        auditContextOf(req),
      );
      return reply.status(204).send(null);
    },
  );
}
