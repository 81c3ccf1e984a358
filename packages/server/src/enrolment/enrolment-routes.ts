import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  FIRMWARE_DIGEST_HEADER,
  PROOF_HEADER,
  certificateResponseSchema,
  challengeRequestSchema,
  challengeResponseSchema,
  enrolRequestSchema,
  enrolResponseSchema,
  fromBase64url,
  renewRequestSchema,
  sessionRequestSchema,
  sessionResponseSchema,
  sha256HexSchema,
  statusResponseSchema,
  timeRequestSchema,
  timeResponseSchema,
  type ProofPurpose,
  type VerifiedProof,
} from '@trustlink/protocol';
import { z } from 'zod';
import type { Device } from '../devices/device-repo.js';
import type { DeviceRequestContext } from './device-audit.js';
import { requestContext } from './device-auth.js';
import type { DeviceApi } from './device-api.js';
import { proofHost, registerRawJsonParser } from './device-http.js';
import type { EnrolCredential } from './enrolment-service.js';

const tags = ['device'];
const base = '/device/v1';

/**
 * The device API (PROTOCOL.md) on the device port: challenge and time are public; everything
 * else authenticates the device itself (TLS client certificate, bearer session or a
 * Trustlink-Proof) and answers a refused device with a bare 401 or 403.
 */
export function registerDeviceApiRoutes(app: FastifyInstance, api: DeviceApi): void {
  registerRawJsonParser(app);
  const r = app.withTypeProvider<ZodTypeProvider>();
  const device = { access: 'device' as const };
  // Routes anyone may call are limited per source address before the body is even read.
  const limited = api.limits.byAddress;

  /** Verifies the request's Trustlink-Proof for `purpose` and burns its nonce. */
  async function proof(
    req: FastifyRequest,
    ctx: DeviceRequestContext,
    action: string,
    purpose: ProofPurpose,
  ): Promise<VerifiedProof> {
    const host = proofHost(req, api.ownHosts);
    if (!host) {
      throw await api.audit.refuse(
        ctx,
        action,
        'unauthorized',
        `proof for host "${req.headers.host ?? ''}", which is not a name of this server`,
      );
    }
    const header = req.headers[PROOF_HEADER];
    const check = await api.challenges.check(
      ctx.instanceId,
      typeof header === 'string' ? header : undefined,
      { host, method: req.method, path: req.url, body: req.rawBody ?? Buffer.alloc(0) },
      purpose,
    );
    if (!check.ok) {
      throw await api.audit.refuse(
        ctx,
        action,
        check.replay ? 'replay' : 'unauthorized',
        check.reason,
        {
          detail: check.detail,
        },
      );
    }
    ctx.deviceId = check.proof.deviceId;
    return check.proof;
  }

  /** The device a proof stands for: by its device certificate (cert=) or its key (spki=). */
  async function provenDevice(
    ctx: DeviceRequestContext,
    p: VerifiedProof,
    action: string,
  ): Promise<Device> {
    if (p.certificate) {
      const c = await api.auth.classifyCertificate(ctx.instanceId, p.certificate, []);
      if (c.kind !== 'device-certificate') {
        throw await api.audit.refuse(
          ctx,
          action,
          'unauthorized',
          'the proof names a certificate that is not a device certificate of this instance',
        );
      }
      const found = await api.lifecycle.findByCertificate(ctx.instanceId, c.issuerId, c.serial);
      if (!found)
        throw await api.audit.refuse(
          ctx,
          action,
          'unauthorized',
          `certificate serial ${c.serial} is unknown`,
        );
      if (found.status !== 'valid' && found.device.state !== 'revoked')
        throw await api.audit.refuse(
          ctx,
          action,
          'unauthorized',
          `certificate ${c.serial} is revoked`,
        );
      return found.device;
    }
    const d = await api.devices.find(ctx.instanceId, p.deviceId);
    if (!d)
      throw await api.audit.refuse(
        ctx,
        action,
        'unauthorized',
        'device ID is not registered in any batch',
      );
    return d;
  }

  r.post(
    `${base}/challenge`,
    {
      onRequest: limited,
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'deviceChallenge',
        summary: 'A single-use nonce for a Trustlink-Proof',
        body: challengeRequestSchema,
        response: { 200: challengeResponseSchema },
      },
    },
    async (req) => api.challenges.issue(api.instanceOf(req)),
  );

  r.post(
    `${base}/time`,
    {
      onRequest: limited,
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'deviceTime',
        summary: 'The time, signed for the device nonce',
        body: timeRequestSchema,
        response: { 200: timeResponseSchema },
      },
    },
    async (req) => api.time.statement(api.instanceOf(req), req.body.nonce),
  );

  r.post(
    `${base}/enrol`,
    {
      onRequest: limited,
      config: device,
      schema: {
        tags,
        operationId: 'deviceEnrol',
        summary:
          'Enrol: a certificate for the proven identity key, and what the device needs to connect',
        body: enrolRequestSchema,
        response: { 200: enrolResponseSchema },
      },
    },
    async (req) => {
      const ctx = requestContext(req, api.instanceOf(req), 'device-api');
      const action = 'device.enrol';
      const extra = (req.body.factoryChain ?? []).map((c) => fromBase64url(c)!);
      let credential: EnrolCredential;
      if (req.headers[PROOF_HEADER] !== undefined) {
        const p = await proof(req, ctx, action, 'enrol');
        if (p.certificate) {
          const c = await api.auth.classifyCertificate(ctx.instanceId, p.certificate, extra);
          credential =
            c.kind === 'device-certificate'
              ? { kind: 'device-certificate', issuerId: c.issuerId, serial: c.serial, via: 'proof' }
              : c.kind === 'bootstrap'
                ? { kind: 'key', spki: c.spki, via: 'proof' }
                : {
                    kind: 'factory',
                    certificate: p.certificate,
                    intermediates: extra,
                    via: 'proof',
                  };
        } else credential = { kind: 'key', spki: p.spki, via: 'proof' };
      } else {
        const c = await api.auth.peer(req, ctx.instanceId);
        if (c.kind === 'none') {
          throw await api.audit.refuse(
            ctx,
            action,
            'unauthorized',
            'no client certificate and no Trustlink-Proof',
          );
        }
        credential =
          c.kind === 'device-certificate'
            ? { kind: 'device-certificate', issuerId: c.issuerId, serial: c.serial, via: 'tls' }
            : c.kind === 'bootstrap'
              ? { kind: 'key', spki: c.spki, key: c.key, via: 'tls-bootstrap' }
              : {
                  kind: 'factory',
                  certificate: c.der,
                  intermediates: [...c.intermediates, ...extra],
                  via: 'tls',
                };
      }
      const result = await api.enrolment.enrol(ctx, {
        csrDer: fromBase64url(req.body.csr)!,
        ...(req.body.token !== undefined ? { token: req.body.token } : {}),
        credential,
      });
      if (ctx.deviceId) api.connections.track(ctx.instanceId, ctx.deviceId, req.raw.socket);
      return result.response;
    },
  );

  r.post(
    `${base}/session`,
    {
      onRequest: limited,
      config: device,
      schema: {
        tags,
        operationId: 'deviceSession',
        summary: 'A bearer session (at most 15 minutes) for a device proven by a Trustlink-Proof',
        body: sessionRequestSchema,
        response: { 200: sessionResponseSchema },
      },
    },
    async (req) => {
      const ctx = requestContext(req, api.instanceOf(req), 'device-api');
      const action = 'device.session.open';
      const p = await proof(req, ctx, action, 'session');
      return api.checkIn.openSession(ctx, await provenDevice(ctx, p, action));
    },
  );

  r.get(
    `${base}/status`,
    {
      config: device,
      schema: {
        tags,
        operationId: 'deviceStatus',
        summary: 'Check-in: state, certificate, waiting update (304 when unchanged)',
        headers: z.object({
          'if-none-match': z.string().max(256).optional(),
          [FIRMWARE_DIGEST_HEADER]: sha256HexSchema.optional(),
        }),
        response: { 200: statusResponseSchema, 304: z.null() },
      },
    },
    async (req, reply) => {
      const ctx = requestContext(req, api.instanceOf(req), 'device-api');
      const who = await api.auth.authenticate(req, ctx, 'device.check-in', {
        allowExpired: true,
        withUpdate: true,
      });
      api.limits.device(ctx.instanceId, who.device.id);
      const answer = await api.checkIn.status(
        ctx,
        who.device,
        req.headers['if-none-match'],
        req.headers[FIRMWARE_DIGEST_HEADER],
        who.waitingUpdateId,
      );
      void reply.header('etag', answer.etag).header('cache-control', 'no-cache');
      if (answer.notModified) return reply.status(304).send(null);
      return answer.body;
    },
  );

  r.post(
    `${base}/renew`,
    {
      config: device,
      schema: {
        tags,
        operationId: 'deviceRenew',
        summary:
          'Renew with the current certificate or session; after expiry with a proof, within the grace period',
        body: renewRequestSchema,
        response: { 200: certificateResponseSchema },
      },
    },
    async (req) => {
      const ctx = requestContext(req, api.instanceOf(req), 'device-api');
      const action = 'device.renew';
      const csrDer = fromBase64url(req.body.csr)!;
      if (req.headers[PROOF_HEADER] !== undefined) {
        const p = await proof(req, ctx, action, 'renew');
        const d = await provenDevice(ctx, p, action);
        api.limits.device(ctx.instanceId, d.id);
        return (await api.renewal.renew(ctx, d, csrDer, 'proof')).response;
      }
      const who = await api.auth.authenticate(req, ctx, action);
      api.limits.device(ctx.instanceId, who.device.id);
      return (await api.renewal.renew(ctx, who.device, csrDer, who.via)).response;
    },
  );

  r.get(
    `${base}/certificate`,
    {
      config: device,
      schema: {
        tags,
        operationId: 'deviceCertificate',
        summary: "The device's current certificate (after an automatic renewal)",
        response: { 200: certificateResponseSchema },
      },
    },
    async (req) => {
      const ctx = requestContext(req, api.instanceOf(req), 'device-api');
      const who = await api.auth.authenticate(req, ctx, 'device.certificate.fetch');
      api.limits.device(ctx.instanceId, who.device.id);
      return api.renewal.current(ctx, who.device);
    },
  );
}
