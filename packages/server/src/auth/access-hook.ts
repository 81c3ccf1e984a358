import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditActor } from '../audit/audit-types.js';
import { ForbiddenError, UnauthorizedError } from '../lib/errors.js';
import type { AccessServices } from './access-services.js';
import { actorOf, type Principal } from './principal.js';
import { safeEqual } from './token-fns.js';

/** The session cookie. `__Host-` makes browsers insist on Secure, Path=/ and no Domain. */
export const SESSION_COOKIE = '__Host-trustlink-session';
/** Header that must carry the session's CSRF token on state-changing requests. */
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function sessionCookieOptions(maxAgeSeconds: number) {
  return {
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'strict' as const,
    maxAge: maxAgeSeconds,
  };
}

export interface AccessHookDeps {
  access: AccessServices;
  audit: AuditService;
  /** The instance a request addresses (the default one until SNI routing arrives). */
  instanceOf(request: FastifyRequest): string;
}

/**
 * Enforces `config.access` on every route in one place, before the body is even parsed:
 * 'user' and 'administrator' routes need a session cookie or an API token, and
 * 'administrator' routes refuse contributors. 'public' and 'device' routes pass (the device API
 * checks devices itself). Refusals of presented credentials are audited; a request with no
 * credentials at all is only refused.
 */
export function registerAccessControl(app: FastifyInstance, deps: AccessHookDeps): void {
  const { access, audit } = deps;
  app.decorateRequest('principal', undefined);

  const refuse = async (
    request: FastifyRequest,
    action: string,
    actor: AuditActor,
    result: 'denied' | 'failed',
    details: Record<string, unknown>,
  ) =>
    audit.record({
      instanceId: deps.instanceOf(request),
      actor,
      action,
      target: { type: 'route', id: `${request.method} ${request.routeOptions.url ?? ''}` },
      result,
      sourceAddress: request.ip,
      details,
    });

  async function byToken(request: FastifyRequest, header: string): Promise<Principal> {
    const instanceId = deps.instanceOf(request);
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const unknown: AuditActor = { type: 'token', id: null, name: '(unknown token)' };
    if (!m) {
      await refuse(request, 'auth.token.rejected', unknown, 'denied', {
        reason: 'unsupported Authorization scheme',
      });
      throw new UnauthorizedError(
        'unsupported Authorization header: send "Authorization: Bearer <API token>"',
        undefined,
        'invalid-token',
      );
    }
    const r = await access.apiTokens.resolve(instanceId, m[1]!);
    const user = r.ok ? await access.users.findRecord(instanceId, r.token.userId) : undefined;
    if (!r.ok || !user || user.disabledAt) {
      const reason = !r.ok ? r.reason : 'owner missing or disabled';
      const token = r.token;
      await refuse(
        request,
        'auth.token.rejected',
        token ? { type: 'token', id: token.id, name: user?.username ?? token.name } : unknown,
        'denied',
        { reason },
      );
      throw new UnauthorizedError(
        'the API token is invalid, expired or revoked',
        reason,
        'invalid-token',
      );
    }
    return {
      instanceId,
      userId: user.id,
      username: user.username,
      role: user.role,
      method: 'token',
      tokenId: r.token.id,
    };
  }

  async function bySession(
    request: FastifyRequest,
    reply: FastifyReply,
    cookie: string,
  ): Promise<Principal> {
    const instanceId = deps.instanceOf(request);
    const r = await access.sessions.resolve(instanceId, cookie);
    const user = r.ok ? await access.users.findRecord(instanceId, r.session.userId) : undefined;
    if (!r.ok || !user || user.disabledAt) {
      if (r.ok) await access.sessions.revoke(instanceId, r.session.id);
      void reply.clearCookie(SESSION_COOKIE, { path: '/', secure: true, httpOnly: true });
      const reason = !r.ok ? r.reason : 'user missing or disabled';
      await refuse(
        request,
        'auth.session.rejected',
        user
          ? { type: 'user', id: user.id, name: user.username }
          : { type: 'user', name: '(unknown session)' },
        'denied',
        { reason },
      );
      const expired = !r.ok && r.reason !== 'unknown';
      throw new UnauthorizedError(
        expired
          ? 'your session expired; sign in again'
          : 'your session is not valid (signed out or revoked); sign in again',
        reason,
        expired ? 'session-expired' : 'invalid-session',
      );
    }
    if (!SAFE_METHODS.has(request.method)) {
      const sent = request.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !safeEqual(sent, r.csrfToken)) {
        await refuse(
          request,
          'auth.csrf.rejected',
          { type: 'user', id: user.id, name: user.username },
          'denied',
          {
            reason: typeof sent === 'string' ? 'wrong CSRF token' : 'missing CSRF token',
          },
        );
        throw new ForbiddenError(
          `missing or wrong CSRF token: send the ${CSRF_HEADER} header given at sign-in`,
          'csrf-failed',
        );
      }
    }
    return {
      instanceId,
      userId: user.id,
      username: user.username,
      role: user.role,
      method: 'session',
      sessionId: r.session.id,
      csrfToken: r.csrfToken,
      sessionExpiresAt: r.session.expiresAt,
    };
  }

  app.addHook('onRequest', async (request, reply) => {
    const required = request.routeOptions.config?.access;
    if (required !== 'user' && required !== 'administrator') return;
    const header = request.headers.authorization;
    const cookie = request.cookies?.[SESSION_COOKIE];
    let principal: Principal;
    if (header !== undefined) principal = await byToken(request, header);
    else if (cookie) principal = await bySession(request, reply, cookie);
    else {
      throw new UnauthorizedError(
        'sign in first, or send an API token as "Authorization: Bearer <token>"',
        undefined,
        'unauthenticated',
      );
    }
    if (required === 'administrator' && principal.role !== 'administrator') {
      await refuse(request, 'access.denied', actorOf(principal), 'denied', {
        required: 'administrator',
        role: principal.role,
      });
      throw new ForbiddenError('this needs the administrator role', 'administrator-required');
    }
    request.principal = principal;
  });
}
