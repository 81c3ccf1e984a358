import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import { recordChange } from '../audit/record-change.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/db-errors.js';
import { BadRequestError, ConflictError, NotFoundError } from '../lib/errors.js';
import type { EnrolmentToken, EnrolmentTokenRepo } from './enrolment-token-repo.js';

/** 128 bits, as the product promises; hex so MCU firmware can carry it as plain text. */
const TOKEN_BYTES = 16;

export const hashTokenValue = (value: string) =>
  createHash('sha256').update(value.trim().toLowerCase()).digest('hex');

export interface CreateTokenInput {
  name: string;
  batchId: string;
  notBefore: string;
  notAfter: string;
}

export type TokenCheck = { ok: true; token: EnrolmentToken } | { ok: false; reason: string };

export interface EnrolmentTokenServiceDeps {
  repo: EnrolmentTokenRepo;
  batchExists(instanceId: string, batchId: string): Promise<boolean>;
  db: Db;
  audit: AuditService;
  now?: () => Date;
}

/**
 * Tokens are a second factor for devices enrolling with a factory certificate: the same value
 * ships in every image of a batch and can be extracted, so a token never enrols on its own.
 * The value is returned once at creation; only its SHA-256 is kept (it has 128 random bits,
 * so a fast hash is enough).
 */
export function createEnrolmentTokenService(deps: EnrolmentTokenServiceDeps) {
  const now = deps.now ?? (() => new Date());
  return {
    list: (instanceId: string) => deps.repo.list(instanceId),
    async create(
      instanceId: string,
      input: CreateTokenInput,
      ctx: AuditContext,
    ): Promise<{ token: EnrolmentToken; value: string }> {
      const nb = Date.parse(input.notBefore);
      const na = Date.parse(input.notAfter);
      if (!(na > nb))
        throw new BadRequestError(
          'notAfter must be later than notBefore',
          { errors: [{ path: 'notAfter', message: 'must be later than notBefore' }] },
          'validation-failed',
        );
      if (na <= now().getTime())
        throw new BadRequestError(
          'notAfter is in the past: the token could never be used',
          { errors: [{ path: 'notAfter', message: 'in the past' }] },
          'validation-failed',
        );
      if (!(await deps.batchExists(instanceId, input.batchId))) {
        throw new BadRequestError(
          `batch ${input.batchId} does not exist`,
          { errors: [{ path: 'batchId', message: 'unknown batch' }] },
          'validation-failed',
        );
      }
      const value = randomBytes(TOKEN_BYTES).toString('hex');
      const token: EnrolmentToken = {
        id: randomUUID(),
        name: input.name.trim(),
        batchId: input.batchId,
        notBefore: new Date(nb).toISOString(),
        notAfter: new Date(na).toISOString(),
        createdAt: now().toISOString(),
      };
      try {
        await deps.db.kysely.transaction().execute(async (tx) => {
          await deps.repo.insert(instanceId, token, hashTokenValue(value), tx);
          await recordChange(deps.audit, tx, {
            instanceId,
            ctx,
            // Not `token.*`: those are API tokens' actions (audit/renamed-actions.ts).
            action: 'enrolment-token.create',
            target: { type: 'enrolment-token', id: token.id, name: token.name },
            details: {
              batchId: token.batchId,
              notBefore: token.notBefore,
              notAfter: token.notAfter,
            },
          });
        });
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ConflictError(`a token named "${token.name}" already exists`, 'name-taken');
        throw err;
      }
      return { token, value };
    },
    async remove(instanceId: string, id: string, ctx: AuditContext): Promise<EnrolmentToken> {
      const t = await deps.repo.find(instanceId, id);
      if (!t) throw new NotFoundError(`token ${id} not found`);
      await deps.db.kysely.transaction().execute(async (tx) => {
        await deps.repo.delete(instanceId, id, tx);
        await recordChange(deps.audit, tx, {
          instanceId,
          ctx,
          action: 'enrolment-token.delete',
          target: { type: 'enrolment-token', id, name: t.name },
        });
      });
      return t;
    },
    /** For enrolment: is this value a token of this batch, valid now? The reason is for the audit log only. */
    async check(instanceId: string, value: string, batchId: string): Promise<TokenCheck> {
      const t = await deps.repo.findByHash(instanceId, hashTokenValue(value));
      if (!t) return { ok: false, reason: 'unknown token' };
      if (t.batchId !== batchId)
        return { ok: false, reason: `token "${t.name}" belongs to another batch` };
      const n = now().getTime();
      if (n < Date.parse(t.notBefore))
        return { ok: false, reason: `token "${t.name}" is not valid before ${t.notBefore}` };
      if (n >= Date.parse(t.notAfter))
        return { ok: false, reason: `token "${t.name}" expired at ${t.notAfter}` };
      return { ok: true, token: t };
    },
  };
}
export type EnrolmentTokenService = ReturnType<typeof createEnrolmentTokenService>;
