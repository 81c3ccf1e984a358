import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MAX_BODY_BYTES as DEVICE_BODY_LIMIT } from '@trustlink/protocol';
import type { DeviceApi } from '../enrolment/device-api.js';
import { requestContext } from '../enrolment/device-auth.js';
import type { EnrolCredential } from '../enrolment/enrolment-service.js';
import {
  base64Lines,
  basicPassword,
  certsOnlyPkcs7,
  csrAttrs,
  decodeBase64Body,
} from './est-fns.js';

const tags = ['est'];
const base = '/.well-known/est';
const PKCS7_CERTS_ONLY = 'application/pkcs7-mime; smime-type=certs-only';

/** Sends DER as RFC 7030 wants it: base64, with Content-Transfer-Encoding saying so. */
function sendBase64(reply: FastifyReply, type: string, der: Buffer) {
  return reply.type(type).header('content-transfer-encoding', 'base64').send(base64Lines(der));
}

/**
 * EST (RFC 7030) on the device port, so standard clients enrol without our agent: the CA
 * certificates, CSR attributes, enrolment and re-enrolment. Enrolment follows the same rules
 * as the device API: a self-signed bootstrap certificate over TLS proves a pre-registered
 * ID's key, a factory certificate goes through its auth cert (with the token as the HTTP
 * Basic password where the auth cert requires one); re-enrolment uses the device certificate.
 */
export function registerEstRoutes(app: FastifyInstance, api: DeviceApi): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  // A PKCS#10 request in base64 is a few KiB; the device port's limit is the outer bound.
  app.addContentTypeParser(
    'application/pkcs10',
    { parseAs: 'string', bodyLimit: DEVICE_BODY_LIMIT },
    (_req, body, done) => done(null, body),
  );
  const device = { access: 'device' as const };
  // As on the device API: routes without a device yet are limited per source address.
  const limited = api.limits.byAddress;
  const body = z.string().max(DEVICE_BODY_LIMIT).describe('base64 of a DER PKCS#10 request');

  r.get(
    `${base}/cacerts`,
    {
      onRequest: limited,
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'estCaCerts',
        summary: 'The CA certificates (OEM root and current issuing CAs), base64 PKCS#7 certs-only',
      },
    },
    async (req, reply) =>
      sendBase64(
        reply,
        'application/pkcs7-mime',
        certsOnlyPkcs7(await api.caCertificates(api.instanceOf(req))),
      ),
  );

  r.get(
    `${base}/csrattrs`,
    {
      onRequest: limited,
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'estCsrAttrs',
        summary: 'What a CSR should use: the accepted key types and signature algorithms',
      },
    },
    async (req, reply) =>
      sendBase64(
        reply,
        'application/csrattrs',
        csrAttrs(await api.acceptedKeyTypes(api.instanceOf(req))),
      ),
  );

  r.post(
    `${base}/simpleenroll`,
    {
      onRequest: limited,
      config: device,
      schema: {
        tags,
        operationId: 'estSimpleEnroll',
        summary: 'Enrol with a bootstrap or factory certificate over TLS (token as Basic password)',
        body,
      },
    },
    async (req, reply) => {
      const ctx = requestContext(req, api.instanceOf(req), 'est');
      const action = 'device.enrol';
      const csrDer = decodeBase64Body(req.body);
      if (!csrDer)
        throw await api.audit.refuse(
          ctx,
          action,
          'invalid',
          'the body is not a base64 PKCS#10 request',
        );
      const c = await api.auth.peer(req, ctx.instanceId);
      if (c.kind === 'none')
        throw await api.audit.refuse(
          ctx,
          action,
          'unauthorized',
          'EST enrolment without a TLS client certificate',
        );
      const credential: EnrolCredential =
        c.kind === 'device-certificate'
          ? { kind: 'device-certificate', issuerId: c.issuerId, serial: c.serial, via: 'tls' }
          : c.kind === 'bootstrap'
            ? { kind: 'key', spki: c.spki, key: c.key, via: 'tls-bootstrap' }
            : { kind: 'factory', certificate: c.der, intermediates: c.intermediates, via: 'tls' };
      const token = basicPassword(req.headers.authorization);
      const result = await api.enrolment.enrol(ctx, {
        csrDer,
        ...(token !== undefined ? { token } : {}),
        credential,
      });
      if (ctx.deviceId) api.connections.track(ctx.instanceId, ctx.deviceId, req.raw.socket);
      return sendBase64(reply, PKCS7_CERTS_ONLY, certsOnlyPkcs7([result.certificate]));
    },
  );

  r.post(
    `${base}/simplereenroll`,
    {
      config: device,
      schema: {
        tags,
        operationId: 'estSimpleReenroll',
        summary: 'Re-enrol with the current device certificate over TLS',
        body,
      },
    },
    async (req, reply) => {
      const ctx = requestContext(req, api.instanceOf(req), 'est');
      const action = 'device.renew';
      const who = await api.auth.authenticate(req, ctx, action);
      api.limits.device(ctx.instanceId, who.device.id);
      const csrDer = decodeBase64Body(req.body);
      if (!csrDer)
        throw await api.audit.refuse(
          ctx,
          action,
          'invalid',
          'the body is not a base64 PKCS#10 request',
        );
      const renewed = await api.renewal.renew(ctx, who.device, csrDer, 'tls');
      return sendBase64(reply, PKCS7_CERTS_ONLY, certsOnlyPkcs7([renewed.certificate]));
    },
  );
}
