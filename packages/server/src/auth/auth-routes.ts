import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditService } from '../audit/audit-service.js';
import { passwordSchema } from '../users/users-fns.js';
import { userSchema } from '../users/users-schemas.js';
import { SESSION_COOKIE, sessionCookieOptions } from './access-hook.js';
import type { AccessServices } from './access-services.js';
import { actorOf, auditContextOf, principalOf } from './principal.js';
import type { SignInResult } from './sign-in-service.js';

const tags = ['auth'];

export const totpEnrolmentSchema = z.object({
  enrolmentId: z.string(),
  otpauthUri: z.string(),
  qrCode: z.string().describe('SVG data URL of the otpauth URI'),
  secret: z.string().describe('the secret in base32, for typing in by hand'),
  expiresAt: z.string(),
});

const signInResponse = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('signed-in'),
    user: userSchema,
    csrfToken: z.string().describe(`send it as the x-csrf-token header on POST, PATCH, DELETE`),
    expiresAt: z.string(),
    recoveryCodes: z
      .array(z.string())
      .optional()
      .describe('after enrolment only: one-time codes for when the phone is lost; shown once'),
  }),
  z.object({
    status: z.literal('second-factor-required'),
    challenge: z.string(),
    expiresAt: z.string(),
  }),
  z.object({
    status: z.literal('enrolment-required'),
    challenge: z.string(),
    expiresAt: z.string(),
    totp: totpEnrolmentSchema,
  }),
]);

const meResponse = z.object({
  user: userSchema,
  method: z.enum(['session', 'token']),
  csrfToken: z.string().optional(),
  sessionExpiresAt: z.string().optional(),
});

/** Sign-in, sign-out, the caller's own account. */
export function registerAuthRoutes(
  app: FastifyInstance,
  deps: { access: AccessServices; audit: AuditService; instanceOf(req: FastifyRequest): string },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { access, audit } = deps;
  const client = (req: FastifyRequest) => ({
    sourceAddress: req.ip,
    userAgent: String(req.headers['user-agent'] ?? ''),
  });

  const answer = async (instanceId: string, result: SignInResult, reply: FastifyReply) => {
    if (result.status !== 'signed-in') return result;
    void reply.setCookie(
      SESSION_COOKIE,
      result.session.token,
      sessionCookieOptions(access.sessions.policy.maxHours * 3600),
    );
    return {
      status: 'signed-in' as const,
      user: await access.users.get(instanceId, result.user.id),
      csrfToken: result.session.csrfToken,
      expiresAt: result.session.expiresAt,
      ...(result.recoveryCodes && { recoveryCodes: result.recoveryCodes }),
    };
  };

  r.post(
    '/api/v1/auth/sign-in',
    {
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'signIn',
        summary: 'Sign in, step 1: username and password',
        description:
          'Answers with a session (two-factor off), or a challenge for the TOTP step, or a challenge plus a new authenticator secret to enrol. Unknown users and wrong passwords get the same answer; repeated failures must wait (429).',
        body: z.object({
          username: z.string().min(1).max(256),
          password: z.string().min(1).max(1024),
        }),
        response: { 200: signInResponse },
      },
    },
    async (req, reply) => {
      const instanceId = deps.instanceOf(req);
      return answer(
        instanceId,
        await access.signIn.password(instanceId, req.body, client(req)),
        reply,
      );
    },
  );

  r.post(
    '/api/v1/auth/sign-in/second-factor',
    {
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'signInSecondFactor',
        summary: 'Sign in, step 2: a TOTP code (or a recovery code) for the challenge',
        body: z
          .object({
            challenge: z.string().min(1).max(100),
            code: z.string().max(20).optional(),
            recoveryCode: z.string().max(40).optional(),
          })
          .refine((b) => (b.code === undefined) !== (b.recoveryCode === undefined), {
            message: 'send either code or recoveryCode',
          }),
        response: { 200: signInResponse },
      },
    },
    async (req, reply) => {
      const instanceId = deps.instanceOf(req);
      return answer(
        instanceId,
        await access.signIn.secondFactor(instanceId, req.body, client(req)),
        reply,
      );
    },
  );

  r.post(
    '/api/v1/auth/sign-out',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'signOut',
        summary: 'End this session',
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      if (p.sessionId) await access.sessions.revoke(p.instanceId, p.sessionId);
      await audit.record({
        instanceId: p.instanceId,
        actor: actorOf(p),
        action: 'auth.sign-out',
        target: p.sessionId ? { type: 'session', id: p.sessionId } : null,
        result: 'ok',
        sourceAddress: req.ip,
      });
      void reply.clearCookie(SESSION_COOKIE, { path: '/', secure: true, httpOnly: true });
      return reply.status(204).send(null);
    },
  );

  r.get(
    '/api/v1/auth/me',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'getMe',
        summary: 'Who am I: the caller, how they signed in, and the CSRF token of the session',
        response: { 200: meResponse },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return {
        user: await access.users.get(p.instanceId, p.userId),
        method: p.method,
        ...(p.csrfToken && { csrfToken: p.csrfToken, sessionExpiresAt: p.sessionExpiresAt }),
      };
    },
  );

  r.post(
    '/api/v1/auth/password',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'changeOwnPassword',
        summary: 'Change my password (my other sessions end)',
        body: z.object({
          currentPassword: z.string().min(1).max(1024),
          newPassword: passwordSchema,
        }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      await access.users.changeOwnPassword(
        p.instanceId,
        p.userId,
        { ...req.body, keepSessionId: p.sessionId },
        auditContextOf(req),
      );
      return reply.status(204).send(null);
    },
  );

  r.post(
    '/api/v1/auth/recovery-codes',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'regenerateRecoveryCodes',
        summary: 'Replace my recovery codes (needs my password); shown once',
        body: z.object({ password: z.string().min(1).max(1024) }),
        response: { 200: z.object({ recoveryCodes: z.array(z.string()) }) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const recoveryCodes = await access.signIn.regenerateRecoveryCodes(
        p.instanceId,
        p.userId,
        req.body.password,
        auditContextOf(req),
      );
      return { recoveryCodes };
    },
  );
}
