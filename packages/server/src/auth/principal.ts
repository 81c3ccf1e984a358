import type { FastifyRequest } from 'fastify';
import type { AuditActor, AuditContext } from '../audit/audit-types.js';
import { UnauthorizedError } from '../lib/errors.js';
import type { Role } from '../users/users-types.js';

export type AuthMethod = 'session' | 'token';

/** Who is calling: resolved by the access hook on every 'user' and 'administrator' route. */
export interface Principal {
  instanceId: string;
  userId: string;
  username: string;
  role: Role;
  method: AuthMethod;
  /** Set for console sessions. */
  sessionId?: string;
  csrfToken?: string;
  sessionExpiresAt?: string;
  /** Set for API tokens. */
  tokenId?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; set on every route whose access is 'user' or 'administrator'. */
    principal?: Principal;
  }
}

/** The caller of a route that requires sign-in (a route declared public has none). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthorizedError();
  return request.principal;
}

/** How a principal appears in the audit log. */
export function actorOf(p: Principal): AuditActor {
  return p.method === 'token'
    ? { type: 'token', id: p.tokenId ?? null, name: p.username }
    : { type: 'user', id: p.userId, name: p.username };
}

/** The audit context of a signed-in request: its principal and source address. */
export function auditContextOf(request: FastifyRequest): AuditContext {
  return { actor: actorOf(principalOf(request)), sourceAddress: request.ip };
}
