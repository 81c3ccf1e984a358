import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import { BadRequestError, ConflictError, NotFoundError } from '../lib/errors.js';
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
  now?: () => Date;
}

/** Creates, changes and removes policies, with the rules of policy-fns and unique names. */
export function createPolicyService(deps: PolicyServiceDeps) {
  const { repo, refs } = deps;
  const now = deps.now ?? (() => new Date());

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
    async create(instanceId: string, input: PolicyInput): Promise<Policy> {
      await validate(instanceId, input);
      const id = randomUUID();
      await repo.insert(instanceId, id, input, now().toISOString());
      return (await repo.find(instanceId, id))!;
    },
    async update(instanceId: string, id: string, input: PolicyInput): Promise<Policy> {
      if (!(await repo.find(instanceId, id))) throw new NotFoundError(`policy ${id} not found`);
      await validate(instanceId, input, id);
      await repo.update(instanceId, id, input, now().toISOString());
      return (await repo.find(instanceId, id))!;
    },
    async remove(instanceId: string, id: string): Promise<Policy> {
      const p = await repo.find(instanceId, id);
      if (!p) throw new NotFoundError(`policy ${id} not found`);
      const user = await refs.policyInUse(instanceId, id);
      if (user)
        throw new ConflictError(
          `policy "${p.name}" is used by ${user}; change or remove that first`,
          'in-use',
        );
      await repo.delete(instanceId, id);
      return p;
    },
  };
}
export type PolicyService = ReturnType<typeof createPolicyService>;
