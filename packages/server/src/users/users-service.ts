import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import type { PasswordHasher } from '../auth/password-hasher.js';
import type { SecondFactorService } from '../auth/second-factor-service.js';
import type { SessionService } from '../auth/session-service.js';
import type { Db, Executor } from '../db/database.js';
import { isUniqueViolation } from '../db/db-errors.js';
import type { InstanceRepo } from '../instances/instance-repo.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../lib/errors.js';
import { checkPassword, usernameKey, usernameSchema } from './users-fns.js';
import { createUserRepo, type UserChanges } from './users-repo.js';
import type { NewUser, User, UserPatch, UserRecord } from './users-types.js';

export interface UserServiceDeps {
  db: Db;
  audit: AuditService;
  passwords: PasswordHasher;
  secondFactor: SecondFactorService;
  sessions: SessionService;
  instances: InstanceRepo;
  now: () => Date;
}

function toUser(r: UserRecord, enrolled: boolean): User {
  const { instanceId: _i, passwordHash: _p, ...rest } = r;
  return { ...rest, twoFactorEnrolled: enrolled, disabled: r.disabledAt !== null };
}

const target = (r: { id: string; username: string }) => ({
  type: 'user',
  id: r.id,
  name: r.username,
});

/**
 * Users of an instance. Invariants: usernames are unique (case-insensitive) and never change;
 * the instance always keeps at least one enabled administrator; every change is audited in the
 * transaction that makes it.
 */
export function createUserService(deps: UserServiceDeps) {
  const { db, audit, passwords, secondFactor, sessions, instances, now } = deps;
  const repo = createUserRepo(db.kysely);

  const load = async (instanceId: string, id: string, tx: Executor = db.kysely) => {
    const r = await repo.find(instanceId, id, tx);
    if (!r) throw new NotFoundError(`user ${id} not found`);
    return r;
  };
  const assertPassword = (password: string, username: string) => {
    const c = checkPassword(password, username);
    if (!c.ok) throw new BadRequestError(c.reason, undefined, 'weak-password');
  };
  const assertOtherAdmin = async (instanceId: string, id: string, tx: Executor) => {
    if ((await repo.countActiveAdmins(instanceId, id, tx)) === 0) {
      throw new ConflictError(
        'this is the last enabled administrator; make another user administrator first',
        'last-administrator',
      );
    }
  };

  const service = {
    async list(instanceId: string): Promise<User[]> {
      const enrolled = await secondFactor.enrolledUserIds(instanceId);
      return (await repo.list(instanceId)).map((r) => toUser(r, enrolled.has(r.id)));
    },
    async get(instanceId: string, id: string): Promise<User> {
      const r = await load(instanceId, id);
      return toUser(r, await secondFactor.isEnrolled(instanceId, id));
    },
    /** The stored record (with the password hash) for the sign-in path; undefined if none. */
    findRecord: (instanceId: string, id: string) => repo.find(instanceId, id),
    findByUsername: (instanceId: string, username: string) =>
      repo.findByUsernameKey(instanceId, usernameKey(username)),
    count: (instanceId: string, tx?: Executor) => repo.count(instanceId, tx),

    /**
     * Creates a user. Creating an administrator also marks the instance claimed, so the
     * first-run setup link stops working once an administrator exists however it was made.
     */
    async create(
      instanceId: string,
      input: NewUser,
      ctx: AuditContext,
      tx?: Executor,
    ): Promise<User> {
      if (!usernameSchema.safeParse(input.username).success) {
        throw new BadRequestError(
          'username: use 1 to 64 letters, digits, hyphens or underscores',
          undefined,
          'invalid-username',
        );
      }
      assertPassword(input.password, input.username);
      const t = now().toISOString();
      const rec: UserRecord = {
        instanceId,
        id: randomUUID(),
        username: input.username,
        email: input.email,
        firstName: input.firstName,
        lastName: input.lastName,
        role: input.role,
        passwordHash: await passwords.hash(input.password),
        twoFactorEnabled: input.twoFactorEnabled ?? true,
        disabledAt: null,
        lastLoginAt: null,
        createdAt: t,
        updatedAt: t,
      };
      const taken = () =>
        new ConflictError(`username ${input.username} is taken`, 'username-taken');
      const run = async (x: Executor) => {
        if (await repo.existsUsername(instanceId, usernameKey(input.username), x)) throw taken();
        await repo.insert(rec, usernameKey(input.username), x);
        if (rec.role === 'administrator') await instances.markClaimed(instanceId, t, x);
        await audit.record(
          {
            instanceId,
            ...ctx,
            action: 'user.create',
            target: target(rec),
            result: 'ok',
            details: { role: rec.role, twoFactorEnabled: rec.twoFactorEnabled },
          },
          x,
        );
      };
      try {
        if (tx) await run(tx);
        else await db.kysely.transaction().execute(run);
      } catch (err) {
        if (isUniqueViolation(err)) throw taken();
        throw err;
      }
      return toUser(rec, false);
    },

    /** Applies an administrator's changes; each kind of change gets its own audit entry. */
    async update(
      instanceId: string,
      id: string,
      patch: UserPatch,
      ctx: AuditContext,
    ): Promise<User> {
      const before = await load(instanceId, id);
      if (patch.password !== undefined) assertPassword(patch.password, before.username);
      const passwordHash =
        patch.password !== undefined ? await passwords.hash(patch.password) : undefined;
      const t = now().toISOString();
      await db.kysely.transaction().execute(async (tx) => {
        const cur = await load(instanceId, id, tx);
        const losesAdmin =
          cur.role === 'administrator' &&
          cur.disabledAt === null &&
          ((patch.role !== undefined && patch.role !== 'administrator') || patch.disabled === true);
        if (losesAdmin) await assertOtherAdmin(instanceId, id, tx);
        const changes: UserChanges = { updatedAt: t };
        const profile: string[] = [];
        if (patch.email !== undefined && patch.email !== cur.email) changes.email = patch.email;
        if (patch.firstName !== undefined && patch.firstName !== cur.firstName) {
          changes.firstName = patch.firstName;
        }
        if (patch.lastName !== undefined && patch.lastName !== cur.lastName) {
          changes.lastName = patch.lastName;
        }
        if (patch.role !== undefined && patch.role !== cur.role) changes.role = patch.role;
        for (const k of ['email', 'firstName', 'lastName', 'role'] as const) {
          if (changes[k] !== undefined) profile.push(k);
        }
        if (passwordHash) changes.passwordHash = passwordHash;
        const twoFactor =
          patch.twoFactorEnabled !== undefined && patch.twoFactorEnabled !== cur.twoFactorEnabled;
        if (twoFactor) changes.twoFactorEnabled = patch.twoFactorEnabled;
        const disabling = patch.disabled === true && cur.disabledAt === null;
        const enabling = patch.disabled === false && cur.disabledAt !== null;
        if (disabling) changes.disabledAt = t;
        if (enabling) changes.disabledAt = null;
        await repo.update(instanceId, id, changes, tx);

        const record = (action: string, details?: Record<string, unknown>) =>
          audit.record(
            { instanceId, ...ctx, action, target: target(cur), result: 'ok', details },
            tx,
          );
        if (profile.length) {
          await record('user.update', {
            fields: profile,
            ...(changes.role && { role: changes.role }),
          });
        }
        if (twoFactor) {
          if (!patch.twoFactorEnabled) await secondFactor.reset(instanceId, id, tx);
          await record(
            patch.twoFactorEnabled ? 'user.two-factor.enable' : 'user.two-factor.disable',
          );
        }
        if (passwordHash) {
          await sessions.revokeAllForUser(instanceId, id, tx);
          await record('user.password.reset');
        }
        if (disabling) {
          await sessions.revokeAllForUser(instanceId, id, tx);
          await record('user.disable');
        }
        if (enabling) await record('user.enable');
      });
      return service.get(instanceId, id);
    },

    async delete(instanceId: string, id: string, ctx: AuditContext): Promise<void> {
      await db.kysely.transaction().execute(async (tx) => {
        const cur = await load(instanceId, id, tx);
        if (cur.role === 'administrator' && cur.disabledAt === null) {
          await assertOtherAdmin(instanceId, id, tx);
        }
        // Sessions, tokens, second factor and recovery codes go with it (ON DELETE CASCADE).
        await repo.delete(instanceId, id, tx);
        await audit.record(
          { instanceId, ...ctx, action: 'user.delete', target: target(cur), result: 'ok' },
          tx,
        );
      });
    },

    /** Forgets a user's authenticator (lost phone): they enrol again at their next sign-in. */
    async resetTwoFactor(instanceId: string, id: string, ctx: AuditContext): Promise<User> {
      await db.kysely.transaction().execute(async (tx) => {
        const cur = await load(instanceId, id, tx);
        await secondFactor.reset(instanceId, id, tx);
        await audit.record(
          {
            instanceId,
            ...ctx,
            action: 'user.two-factor.reset',
            target: target(cur),
            result: 'ok',
          },
          tx,
        );
      });
      return service.get(instanceId, id);
    },

    /** A user changes their own password; their other sessions end. */
    async changeOwnPassword(
      instanceId: string,
      id: string,
      input: { currentPassword: string; newPassword: string; keepSessionId?: string },
      ctx: AuditContext,
    ): Promise<void> {
      const cur = await load(instanceId, id);
      if (!(await passwords.verify(cur.passwordHash, input.currentPassword))) {
        await audit.record({
          instanceId,
          ...ctx,
          action: 'user.password.change',
          target: target(cur),
          result: 'denied',
          details: { reason: 'wrong current password' },
        });
        throw new ForbiddenError('the current password is wrong', 'wrong-password');
      }
      assertPassword(input.newPassword, cur.username);
      const hash = await passwords.hash(input.newPassword);
      await db.kysely.transaction().execute(async (tx) => {
        await repo.update(
          instanceId,
          id,
          { passwordHash: hash, updatedAt: now().toISOString() },
          tx,
        );
        await sessions.revokeAllForUser(instanceId, id, tx, input.keepSessionId);
        await audit.record(
          { instanceId, ...ctx, action: 'user.password.change', target: target(cur), result: 'ok' },
          tx,
        );
      });
    },

    recordLogin: (instanceId: string, id: string, tx?: Executor) =>
      repo.setLastLogin(instanceId, id, now().toISOString(), tx),
  };
  return service;
}
export type UserService = ReturnType<typeof createUserService>;
