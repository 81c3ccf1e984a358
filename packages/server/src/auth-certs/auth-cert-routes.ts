import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditContextOf, principalOf } from '../auth/principal.js';
import { toPem } from '../pki/certificate-builder.js';
import { AUTH_CERT_RULES } from './auth-cert-fns.js';
import type { AuthCert } from './auth-cert-repo.js';
import type { AuthCertService } from './auth-cert-service.js';

const authCertSchema = z.object({
  id: z.string(),
  name: z.string(),
  batchId: z.string(),
  rule: z.enum(AUTH_CERT_RULES),
  subject: z.string(),
  fingerprint: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  status: z.enum(['valid', 'expired']),
  createdAt: z.string(),
});
const idParams = z.object({ id: z.string().min(1).max(64) });

function view(c: AuthCert, now: Date) {
  const { der: _der, ...rest } = c;
  return {
    ...rest,
    status: Date.parse(c.notAfter) <= now.getTime() ? ('expired' as const) : ('valid' as const),
  };
}

/** /api/v1/auth-certs: factory CAs. Importing and removing them is for administrators. */
export function registerAuthCertRoutes(app: FastifyInstance, authCerts: AuthCertService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['auth certs'];
  r.get(
    '/api/v1/auth-certs',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'listAuthCerts',
        summary: 'List auth certs',
        response: { 200: z.object({ items: z.array(authCertSchema) }) },
      },
    },
    async (req) => ({
      items: (await authCerts.list(principalOf(req).instanceId)).map((c) => view(c, new Date())),
    }),
  );
  r.get(
    '/api/v1/auth-certs/:id/pem',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'downloadAuthCert',
        summary: 'The auth cert as PEM',
        params: idParams,
      },
    },
    async (req, reply) => {
      const c = await authCerts.get(principalOf(req).instanceId, req.params.id);
      return reply
        .type('application/x-pem-file')
        .header('content-disposition', `attachment; filename="auth-cert-${c.id}.pem"`)
        .send(toPem(c.der));
    },
  );
  r.post(
    '/api/v1/auth-certs',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'importAuthCert',
        summary: 'Import a CA certificate (PEM) that signed devices’ factory certificates',
        body: z
          .object({
            pem: z
              .string()
              .min(1)
              .max(64 * 1024),
            name: z.string().trim().max(128).optional(),
            batchId: z.string().min(1),
            rule: z.enum(AUTH_CERT_RULES).optional(),
          })
          .strict(),
        response: { 201: authCertSchema },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(
          view(
            await authCerts.import(principalOf(req).instanceId, req.body, auditContextOf(req)),
            new Date(),
          ),
        ),
  );
  r.delete(
    '/api/v1/auth-certs/:id',
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        operationId: 'deleteAuthCert',
        summary: 'Remove an auth cert',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await authCerts.remove(principalOf(req).instanceId, req.params.id, auditContextOf(req));
      return reply.status(204).send(null);
    },
  );
}
