import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import { recordChange } from '../audit/record-change.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/db-errors.js';
import { addDuration } from '../lib/duration.js';
import { BadRequestError, ConflictError, NotFoundError } from '../lib/errors.js';
import type { IssuingCaService } from '../pki/issuing-ca-service.js';
import { checkPolicy } from './policy-fns.js';
import type { PolicyRepo } from './policy-repo.js';
import type { Policy, PolicyInput } from './policy-types.js';

/**
 * What policies point at, answered by the domains that own them (hubs, database direct). Until
 * a domain registers, references to it are unknown and refused.
 */
export interface PolicyReferences {
  hubExists(instanceId: string, hubId: string): Promise<boolean>;
  databaseConnectionExists(instanceId: string, connectionId: string): Promise<boolean>;
  /** Names what still uses a policy (e.g. a batch), or undefined when nothing does. */
  policyInUse(instanceId: string, policyId: string): Promise<string | undefined>;
}

export interface PolicyServiceDeps {
  db: Db;
  repo: PolicyRepo;
  refs: PolicyReferences;
  audit: AuditService;
  /** Makes the issuing CA each policy's devices get their certificates from. */
  issuingCas: Pick<IssuingCaService, 'create'>;
  now?: () => Date;
}

/** Creates, changes and removes policies, with the rules of policy-fns and unique names. */
export function createPolicyService(deps: PolicyServiceDeps) {
  const { db, repo, refs, audit, issuingCas } = deps;
  const now = deps.now ?? (() => new Date());

  /** Creates the issuing CA a policy describes (named after it, under the OEM root). */
  async function makeIssuingCa(
    instanceId: string,
    input: Pick<PolicyInput, 'name' | 'issuingCertificate'>,
    ctx?: AuditContext,
  ): Promise<string> {
    const t = now();
    const lifetimeSeconds = Math.round(
      (addDuration(t, input.issuingCertificate.lifetime).getTime() - t.getTime()) / 1000,
    );
    const ca = await issuingCas.create(
      instanceId,
      {
        name: input.name,
        lifetimeSeconds,
        keyType: input.issuingCertificate.keyType,
        autoRenew: input.issuingCertificate.autoRenew,
      },
      ctx,
    );
    return ca.id;
  }

  async function validate(instanceId: string, input: PolicyInput, selfId?: string): Promise<void> {
    const check = checkPolicy(input, now());
    if (!check.ok)
      throw new BadRequestError(
        check.reason,
        { errors: [{ path: check.field, message: check.reason }] },
        'validation-failed',
      );
    if (input.hubId && !(await refs.hubExists(instanceId, input.hubId))) {
      throw new BadRequestError(
        `IoT hub ${input.hubId} does not exist`,
        { errors: [{ path: 'hubId', message: 'unknown IoT hub' }] },
        'validation-failed',
      );
    }
    if (
      input.databaseConnectionId &&
      !(await refs.databaseConnectionExists(instanceId, input.databaseConnectionId))
    ) {
      throw new BadRequestError(
        `database direct connection ${input.databaseConnectionId} does not exist`,
        {
          errors: [{ path: 'databaseConnectionId', message: 'unknown database direct connection' }],
        },
        'validation-failed',
      );
    }
    const same = await repo.findByName(instanceId, input.name);
    if (same && same.id !== selfId)
      throw new ConflictError(`a policy named "${input.name}" already exists`, 'name-taken');
  }

  return {
    list: (instanceId: string) => repo.list(instanceId),
    async get(instanceId: string, id: string): Promise<Policy> {
      const p = await repo.find(instanceId, id);
      if (!p) throw new NotFoundError(`policy ${id} not found`);
      return p;
    },
    async create(instanceId: string, input: PolicyInput, ctx: AuditContext): Promise<Policy> {
      await validate(instanceId, input);
      const id = randomUUID();
      // The CA is made first, outside the transaction: a key store (an HSM) is no place to wait
      // while holding database locks. If the policy then fails (a name taken meanwhile), the
      // CA stays behind unused, listed as "not used"; nothing refers to it.
      const issuingCaId = await makeIssuingCa(instanceId, input, ctx);
      await db.kysely.transaction().execute(async (tx) => {
        try {
          await repo.insert(instanceId, id, input, now().toISOString(), tx);
        } catch (err) {
          if (isUniqueViolation(err))
            throw new ConflictError(`a policy named "${input.name}" already exists`, 'name-taken');
          throw err;
        }
        await repo.setIssuingCa(instanceId, id, issuingCaId, tx);
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'policy.create',
          target: { type: 'policy', id, name: input.name },
          details: { input },
        });
      });
      return (await repo.find(instanceId, id))!;
    },
    async update(
      instanceId: string,
      id: string,
      input: PolicyInput,
      ctx: AuditContext,
    ): Promise<Policy> {
      if (!(await repo.find(instanceId, id))) throw new NotFoundError(`policy ${id} not found`);
      await validate(instanceId, input, id);
      await db.kysely.transaction().execute(async (tx) => {
        try {
          await repo.update(instanceId, id, input, now().toISOString(), tx);
        } catch (err) {
          if (isUniqueViolation(err))
            throw new ConflictError(`a policy named "${input.name}" already exists`, 'name-taken');
          throw err;
        }
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'policy.update',
          target: { type: 'policy', id, name: input.name },
          details: { input },
        });
      });
      return (await repo.find(instanceId, id))!;
    },
    /**
     * The issuing CA of a policy, made now for a policy that has none (one created before
     * policies had their own CA). Two callers racing both make one; the first stored wins and
     * the other stays unused.
     */
    async issuingCaFor(instanceId: string, policy: Policy): Promise<string> {
      if (policy.issuingCaId) return policy.issuingCaId;
      const made = await makeIssuingCa(instanceId, policy);
      await repo.setIssuingCaIfNone(instanceId, policy.id, made);
      return (await repo.find(instanceId, policy.id))!.issuingCaId!;
    },
    async remove(instanceId: string, id: string, ctx: AuditContext): Promise<Policy> {
      const p = await repo.find(instanceId, id);
      if (!p) throw new NotFoundError(`policy ${id} not found`);
      const user = await refs.policyInUse(instanceId, id);
      if (user)
        throw new ConflictError(
          `policy "${p.name}" is used by ${user}; change or remove that first`,
          'in-use',
        );
      await db.kysely.transaction().execute(async (tx) => {
        await repo.delete(instanceId, id, tx);
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'policy.delete',
          target: { type: 'policy', id, name: p.name },
        });
      });
      return p;
    },
  };
}
export type PolicyService = ReturnType<typeof createPolicyService>;
