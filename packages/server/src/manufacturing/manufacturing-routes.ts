import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { challengeResponseSchema, fromBase64url } from '@trustlink/protocol';
import { z } from 'zod';
import { auditContextOf, principalOf } from '../auth/principal.js';
import { ownHostNames, proofHost } from '../enrolment/device-http.js';
import { BadRequestError } from '../lib/errors.js';
import { bearerOf, credentialStatus } from './manufacturing-fns.js';
import type { ManufacturingCredential } from './manufacturing-repo.js';
import type { ManufacturingService } from './manufacturing-service.js';
import {
  createCredentialSchema,
  credentialSchema,
  registrationResultSchema,
  registrationSchema,
} from './manufacturing-types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The station's credential, on routes whose access is 'manufacturing'. */
    manufacturingCredential?: ManufacturingCredential;
  }
}

export interface ManufacturingRouteDeps {
  manufacturing: ManufacturingService;
  instanceOf(request: FastifyRequest): string;
  publicHostname: string;
  tlsSubjectAltNames: string;
  now: () => Date;
}

const tags = ['manufacturing'];
export const CHALLENGE_PATH = '/api/v1/manufacturing/challenge';
export const REGISTER_PATH = '/api/v1/manufacturing/devices';

/**
 * /api/v1/manufacturing-credentials: administrators create, list and delete credentials.
 * /api/v1/manufacturing/{challenge,devices}: what a station may do with one, and nothing else.
 */
export function registerManufacturingRoutes(
  app: FastifyInstance,
  deps: ManufacturingRouteDeps,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { manufacturing } = deps;
  const view = (c: ManufacturingCredential) => ({
    ...c,
    status: credentialStatus(c, deps.now()),
  });

  r.get(
    '/api/v1/manufacturing-credentials',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'listManufacturingCredentials',
        summary: 'List manufacturing credentials (never their values)',
        response: { 200: z.object({ items: z.array(credentialSchema) }) },
      },
    },
    async (req) => ({
      items: (await manufacturing.list(principalOf(req).instanceId)).map(view),
    }),
  );

  r.post(
    '/api/v1/manufacturing-credentials',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'createManufacturingCredential',
        summary:
          'Create a credential that can only add device IDs to one batch, until notAfter and for at most maxDevices; its value is in this answer only',
        body: createCredentialSchema,
        response: { 201: credentialSchema.extend({ value: z.string() }) },
      },
    },
    async (req, reply) => {
      const { credential, value } = await manufacturing.create(
        principalOf(req).instanceId,
        req.body,
        auditContextOf(req),
      );
      return reply
        .status(201)
        .header('cache-control', 'no-store')
        .send({ ...view(credential), value });
    },
  );

  r.delete(
    '/api/v1/manufacturing-credentials/:id',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'deleteManufacturingCredential',
        summary: 'Delete a credential: stations holding it are refused from the next request on',
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await manufacturing.remove(principalOf(req).instanceId, req.params.id, auditContextOf(req));
      return reply.status(204).send(null);
    },
  );

  // Station routes: the credential is checked before the body is parsed, like every access check.
  const station = async (req: FastifyRequest) => {
    req.manufacturingCredential = await manufacturing.authenticate(
      deps.instanceOf(req),
      bearerOf(req.headers.authorization),
      req.ip,
    );
  };
  const credentialOf = (req: FastifyRequest) => req.manufacturingCredential!;
  const own = ownHostNames(deps.publicHostname, deps.tlsSubjectAltNames);

  r.post(
    CHALLENGE_PATH,
    {
      config: { access: 'manufacturing' },
      onRequest: station,
      schema: {
        tags,
        operationId: 'manufacturingChallenge',
        summary: 'A fresh challenge for proving a device key (manufacturing credential)',
        body: z.object({}).strict().optional(),
        response: { 200: challengeResponseSchema },
      },
    },
    async (req) => manufacturing.challenge(deps.instanceOf(req)),
  );

  r.post(
    REGISTER_PATH,
    {
      config: { access: 'manufacturing' },
      onRequest: station,
      schema: {
        tags,
        operationId: 'manufacturingRegisterDevice',
        summary:
          "Register the device whose key the proof shows into the credential's batch; 201 when added, 200 when it already was",
        body: registrationSchema,
        response: { 200: registrationResultSchema, 201: registrationResultSchema },
      },
    },
    async (req, reply) => {
      const host = proofHost(req, own);
      if (!host)
        throw new BadRequestError(
          `the Host header must name this server (${[...own].slice(0, 3).join(', ')}, ...): the proof is bound to it`,
          undefined,
          'proof-rejected',
        );
      const spki = fromBase64url(req.body.spki);
      const signature = fromBase64url(req.body.signature);
      if (!spki || !signature)
        throw new BadRequestError('spki and signature must be canonical base64url');
      const result = await manufacturing.register(
        deps.instanceOf(req),
        credentialOf(req),
        { spki, nonce: req.body.nonce, signature },
        { host, method: 'POST', path: req.url },
        req.ip,
      );
      return reply.status(result.added ? 201 : 200).send(result);
    },
  );
}
