import { X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditContextOf, principalOf } from '../auth/principal.js';
import { algorithmOfKey } from '../keystore/key-algorithms.js';
import { BadRequestError } from '../lib/errors.js';
import { csrBytes, parseCsr } from './csr-fns.js';
import type { DeviceCertificateRecord } from './device-cert-repo.js';
import type { ListedCaCertificate, Pki } from './pki-module.js';
import type { PkiUrls } from './pki-urls.js';
import {
  caCertificateSchema,
  chainQuery,
  deviceCertQuery,
  deviceCertificateSchema,
  idParams,
  importSigningKeySchema,
  issueSchema,
  newIssuingCaSchema,
  newSigningKeySchema,
  revokeSchema,
  signingKeySchema,
} from './pki-schemas.js';

const tags = ['pki'];
const pem = z.string().describe('PEM text (application/x-pem-file)');

export interface PkiRoutesDeps {
  pki: Pki;
  urls: PkiUrls;
  now: () => Date;
}

/**
 * /api/v1/pki: the instance's certificates (root, issuing, TLS) with status and PEM download,
 * issuing CAs, device certificates (manual issuance, download, revocation) and signing keys.
 * Reading is for every signed-in user; changes are for administrators.
 */
export function registerPkiRoutes(app: FastifyInstance, deps: PkiRoutesDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { pki, urls, now } = deps;
  const user = { access: 'user' as const };
  const admin = { access: 'administrator' as const };

  const caView = (c: ListedCaCertificate) => ({
    id: c.id,
    kind: c.kind,
    name: c.name,
    subject: c.subject,
    serial: c.serial,
    // The certificate's own key, read from the DER, so the listing cannot disagree with it.
    keyType: algorithmOfKey(new X509Certificate(c.der).publicKey) ?? 'other',
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    status: c.status,
    issuerId: c.issuerId,
    issuedCount: c.issuedCount,
    autoRenew: c.autoRenew,
    lifetimeSeconds: c.lifetimeSeconds,
    lineageId: c.lineageId,
    renewedBy: c.renewedBy,
    renewAt: c.renewAt,
    retiredAt: c.retiredAt,
    crlUrl: c.kind === 'tls' ? null : urls.crl(c.instanceId, c.id),
  });
  const deviceView = (d: DeviceCertificateRecord) => ({
    id: d.id,
    issuerId: d.issuerId,
    serial: d.serial,
    deviceId: d.deviceId,
    notBefore: d.notBefore,
    notAfter: d.notAfter,
    status:
      d.status === 'valid' && Date.parse(d.notAfter) <= now().getTime()
        ? ('expired' as const)
        : d.status,
    revocationReason: d.revocationReason,
    revokedAt: d.revokedAt,
    createdAt: d.createdAt,
  });

  r.get(
    '/api/v1/pki/certificates',
    {
      config: user,
      schema: {
        tags,
        operationId: 'listCaCertificates',
        summary: 'Root, issuing and TLS certificates with status (valid, expired, not used)',
        querystring: z.object({ kind: z.enum(['root', 'issuing', 'tls']).optional() }),
        response: { 200: z.object({ certificates: z.array(caCertificateSchema) }) },
      },
    },
    async (req) => {
      const all = await pki.listCertificates(principalOf(req).instanceId);
      return {
        certificates: all.filter((c) => !req.query.kind || c.kind === req.query.kind).map(caView),
      };
    },
  );

  r.get(
    '/api/v1/pki/certificates/:id/pem',
    {
      config: user,
      schema: {
        tags,
        operationId: 'downloadCaCertificate',
        summary: 'PEM of a root, issuing or TLS certificate, with its chain up to the root',
        params: idParams,
        querystring: chainQuery,
        response: { 200: pem },
      },
    },
    async (req, reply) => {
      const text = await pki.issuingCas.pem(
        principalOf(req).instanceId,
        req.params.id,
        req.query.chain,
      );
      return reply.type('application/x-pem-file').send(text);
    },
  );

  r.post(
    '/api/v1/pki/issuing-cas',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'createIssuingCa',
        summary: 'Create an issuing CA under the OEM root (lifetime, key type, auto-renew)',
        body: newIssuingCaSchema,
        response: { 201: caCertificateSchema },
      },
    },
    async (req, reply) => {
      const instanceId = principalOf(req).instanceId;
      const ca = await pki.issuingCas.create(
        instanceId,
        {
          name: req.body.name,
          lifetimeSeconds: req.body.lifetime,
          keyType: req.body.keyType,
          autoRenew: req.body.autoRenew,
        },
        auditContextOf(req),
      );
      const listed = (await pki.listCertificates(instanceId)).find((c) => c.id === ca.id)!;
      return reply.status(201).send(caView(listed));
    },
  );

  r.post(
    '/api/v1/pki/issuing-cas/:id/issue',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'issueDeviceCertificate',
        summary: 'Issue a device certificate from a CSR (the device ID is derived from its key)',
        params: idParams,
        body: issueSchema,
        response: { 201: deviceCertificateSchema },
      },
    },
    async (req, reply) => {
      const csrDer = csrBytes(req.body.csr);
      if (!csrDer)
        throw new BadRequestError(
          'csr must be PEM or base64 of a DER PKCS#10 request',
          undefined,
          'csr-invalid',
        );
      const parsed = parseCsr(csrDer);
      const rec = await pki.deviceCerts.issueDeviceCertificate({
        instanceId: principalOf(req).instanceId,
        issuingCaId: req.params.id,
        csrDer,
        // An unparsable CSR gets its precise error from the engine.
        deviceId: parsed.ok ? parsed.csr.key.deviceId : '',
        lifetimeSeconds: req.body.lifetime,
        acceptedKeyTypes: req.body.acceptedKeyTypes,
        context: auditContextOf(req),
      });
      return reply.status(201).send(deviceView(rec));
    },
  );

  r.get(
    '/api/v1/pki/device-certificates',
    {
      config: user,
      schema: {
        tags,
        operationId: 'listDeviceCertificates',
        summary: 'Issued device certificates, newest first, with status',
        querystring: deviceCertQuery,
        response: { 200: z.object({ certificates: z.array(deviceCertificateSchema) }) },
      },
    },
    async (req) => ({
      certificates: (await pki.deviceCerts.list(principalOf(req).instanceId, req.query)).map(
        deviceView,
      ),
    }),
  );

  r.get(
    '/api/v1/pki/device-certificates/:id/pem',
    {
      config: user,
      schema: {
        tags,
        operationId: 'downloadDeviceCertificate',
        summary: 'PEM of a device certificate, with its issuing CA and root',
        params: idParams,
        querystring: chainQuery,
        response: { 200: pem },
      },
    },
    async (req, reply) => {
      const text = await pki.deviceCerts.pem(
        principalOf(req).instanceId,
        req.params.id,
        req.query.chain,
      );
      return reply.type('application/x-pem-file').send(text);
    },
  );

  r.post(
    '/api/v1/pki/device-certificates/:id/revoke',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'revokeDeviceCertificate',
        summary: 'Revoke a device certificate with an RFC 5280 reason (CRL and OCSP follow)',
        params: idParams,
        body: revokeSchema,
        response: { 200: deviceCertificateSchema },
      },
    },
    async (req) =>
      deviceView(
        await pki.deviceCerts.revoke(
          principalOf(req).instanceId,
          req.params.id,
          req.body.reason,
          auditContextOf(req),
        ),
      ),
  );

  r.get(
    '/api/v1/pki/signing-keys',
    {
      config: user,
      schema: {
        tags,
        operationId: 'listSigningKeys',
        summary: 'Signing keys (imported development keys are named nohsm:...)',
        response: { 200: z.object({ keys: z.array(signingKeySchema) }) },
      },
    },
    async (req) => ({ keys: await pki.signingKeys.list(principalOf(req).instanceId) }),
  );

  r.post(
    '/api/v1/pki/signing-keys',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'generateSigningKey',
        summary: 'Generate a signing key in the key store (ECDSA P-256 or RSA-3072)',
        body: newSigningKeySchema,
        response: { 201: signingKeySchema },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(
          await pki.signingKeys.generate(
            principalOf(req).instanceId,
            req.body,
            auditContextOf(req),
          ),
        ),
  );

  r.post(
    '/api/v1/pki/signing-keys/import',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'importSigningKey',
        summary: 'Import a private key PEM as a development signing key (listed as nohsm:<name>)',
        body: importSigningKeySchema,
        response: { 201: signingKeySchema },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(
          await pki.signingKeys.import(principalOf(req).instanceId, req.body, auditContextOf(req)),
        ),
  );

  r.get(
    '/api/v1/pki/signing-keys/:id/public-key',
    {
      config: user,
      schema: {
        tags,
        operationId: 'downloadSigningPublicKey',
        summary: 'The public key of a signing key (PEM SubjectPublicKeyInfo)',
        params: idParams,
        response: { 200: pem },
      },
    },
    async (req, reply) =>
      reply
        .type('application/x-pem-file')
        .send(await pki.signingKeys.publicKeyPem(principalOf(req).instanceId, req.params.id)),
  );

  r.delete(
    '/api/v1/pki/signing-keys/:id',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'deleteSigningKey',
        summary: 'Delete a signing key no batch uses (409 key-in-use otherwise)',
        params: idParams,
        response: { 204: z.null().describe('deleted') },
      },
    },
    async (req, reply) => {
      await pki.signingKeys.delete(principalOf(req).instanceId, req.params.id, auditContextOf(req));
      return reply.status(204).send(null);
    },
  );
}
