import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError } from '../lib/errors.js';
import type { CaRepo } from './ca-repo.js';
import { toPem } from './certificate-builder.js';
import type { CrlService } from './crl-service.js';
import { MAX_OCSP_REQUEST_BYTES, ocspErrorResponse } from './ocsp-fns.js';
import type { OcspAnswer, OcspService } from './ocsp-service.js';

export interface PkiPublicRoutesDeps {
  crl: Pick<CrlService, 'current'>;
  ocsp: Pick<OcspService, 'respond'>;
  caRepo: CaRepo;
}

const tags = ['pki'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const fileParams = z.object({
  instanceId: z.string().regex(UUID, 'must be an instance id'),
  file: z.string().regex(/^[0-9a-f-]{36}\.(crl|crt)$/, 'must be <CA id>.crl or <CA id>.crt'),
});

/** PEM when asked for by `?format=pem` or an Accept of application/x-pem-file. */
function wantsPem(format: string | undefined, req: FastifyRequest): boolean {
  return format === 'pem' || /application\/x-pem-file/.test(req.headers.accept ?? '');
}

function cacheHeaders(reply: FastifyReply, body: Buffer, thisUpdate?: Date, nextUpdate?: Date) {
  void reply.header('etag', `"${createHash('sha1').update(body).digest('hex')}"`);
  if (!thisUpdate || !nextUpdate) {
    void reply.header('cache-control', 'no-cache');
    return;
  }
  const maxAge = Math.max(0, Math.floor((nextUpdate.getTime() - Date.now()) / 1000));
  void reply.header('last-modified', thisUpdate.toUTCString());
  void reply.header('expires', nextUpdate.toUTCString());
  void reply.header('cache-control', `max-age=${maxAge}, public, no-transform, must-revalidate`);
}

/**
 * The plain-HTTP PKI endpoints relying parties fetch without credentials: each CA's CRL and
 * certificate, and the OCSP responder (GET with the base64 request in the path, or POST).
 * Everything served is signed; nothing here makes the key store sign on demand beyond what
 * the CRL and OCSP services bound.
 */
export function registerPkiPublicRoutes(app: FastifyInstance, deps: PkiPublicRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  app.addContentTypeParser(
    'application/ocsp-request',
    { parseAs: 'buffer', bodyLimit: MAX_OCSP_REQUEST_BYTES },
    (_req, body, done) => done(null, body),
  );

  r.get(
    '/pki/:instanceId/:file',
    {
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'getPkiObject',
        summary: "A CA's CRL (<id>.crl) or certificate (<id>.crt); DER, or PEM with ?format=pem",
        params: fileParams,
        querystring: z.object({ format: z.enum(['der', 'pem']).optional() }),
      },
    },
    async (req, reply) => {
      const { instanceId, file } = req.params;
      const [caId, ext] = file.split('.') as [string, 'crl' | 'crt'];
      const pem = wantsPem(req.query.format, req);
      if (ext === 'crt') {
        const ca = await deps.caRepo.find(instanceId, caId);
        if (!ca || ca.kind === 'tls') throw new NotFoundError(`CA ${caId} not found`);
        cacheHeaders(reply, ca.der);
        return pem
          ? reply.type('application/x-pem-file').send(toPem(ca.der))
          : reply.type('application/pkix-cert').send(ca.der);
      }
      const crl = await deps.crl.current(instanceId, caId);
      cacheHeaders(reply, crl.der, new Date(crl.thisUpdate), new Date(crl.nextUpdate));
      return pem
        ? reply.type('application/x-pem-file').send(toPem(crl.der, 'X509 CRL'))
        : reply.type('application/pkix-crl').send(crl.der);
    },
  );

  const sendOcsp = (reply: FastifyReply, answer: OcspAnswer) => {
    cacheHeaders(reply, answer.der, answer.thisUpdate, answer.nextUpdate);
    return reply.type('application/ocsp-response').send(answer.der);
  };
  const instanceParams = z.object({ instanceId: z.string().regex(UUID, 'must be an instance id') });

  r.get(
    '/pki/:instanceId/ocsp/*',
    {
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'ocspGet',
        summary: 'OCSP (RFC 6960 A.1): the DER request, base64 and URL-encoded, in the path',
        params: instanceParams.extend({ '*': z.string().max(4 * MAX_OCSP_REQUEST_BYTES) }),
      },
    },
    async (req, reply) => {
      let der: Buffer;
      try {
        const b64 = decodeURIComponent(req.params['*']).replace(/\s/g, '');
        if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) throw new Error('not base64');
        der = Buffer.from(b64, /[-_]/.test(b64) ? 'base64url' : 'base64');
      } catch {
        return sendOcsp(reply, { der: ocspErrorResponse('malformedRequest') });
      }
      return sendOcsp(reply, await deps.ocsp.respond(req.params.instanceId, der));
    },
  );

  r.post(
    '/pki/:instanceId/ocsp',
    {
      config: { access: 'public' },
      bodyLimit: MAX_OCSP_REQUEST_BYTES,
      schema: {
        tags,
        operationId: 'ocspPost',
        summary: 'OCSP (RFC 6960 A.1): the DER request as an application/ocsp-request body',
        params: instanceParams,
      },
    },
    async (req, reply) => {
      const body = req.body;
      if (!Buffer.isBuffer(body))
        return sendOcsp(reply, { der: ocspErrorResponse('malformedRequest') });
      return sendOcsp(reply, await deps.ocsp.respond(req.params.instanceId, body));
    },
  );
}
