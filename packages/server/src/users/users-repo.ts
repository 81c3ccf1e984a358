import type { Executor } from '../db/database.js';
import type { Role, UserRecord } from './users-types.js';

type Row = {
  instance_id: string;
  id: string;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  role: string;
  password_hash: string;
  two_factor_enabled: number;
  disabled_at: string | null;
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
};

const toRecord = (r: Row): UserRecord => ({
  instanceId: r.instance_id,
  id: r.id,
  username: r.username,
  email: r.email,
  firstName: r.first_name,
  lastName: r.last_name,
  role: r.role as Role,
  passwordHash: r.password_hash,
  twoFactorEnabled: Number(r.two_factor_enabled) === 1,
  disabledAt: r.disabled_at,
  lastLoginAt: r.last_login_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const COLUMNS = [
  'instance_id',
  'id',
  'username',
  'email',
  'first_name',
  'last_name',
  'role',
  'password_hash',
  'two_factor_enabled',
  'disabled_at',
  'last_login_at',
  'created_at',
  'updated_at',
] as const;

export interface UserChanges {
  email?: string;
  firstName?: string;
  lastName?: string;
  role?: Role;
  passwordHash?: string;
  twoFactorEnabled?: boolean;
  disabledAt?: string | null;
  updatedAt: string;
}

/** Rows of `users`, always scoped to one instance. */
export function createUserRepo(db: Executor) {
  return {
    async insert(rec: UserRecord, usernameKey: string, tx: Executor = db): Promise<void> {
      await tx
        .insertInto('users')
        .values({
          instance_id: rec.instanceId,
          id: rec.id,
          username: rec.username,
          username_key: usernameKey,
          email: rec.email,
          first_name: rec.firstName,
          last_name: rec.lastName,
          role: rec.role,
          password_hash: rec.passwordHash,
          two_factor_enabled: rec.twoFactorEnabled ? 1 : 0,
          disabled_at: rec.disabledAt,
          last_login_at: rec.lastLoginAt,
          created_at: rec.createdAt,
          updated_at: rec.updatedAt,
        })
        .execute();
    },
    async existsUsername(instanceId: string, key: string, tx: Executor = db): Promise<boolean> {
      const r = await tx
        .selectFrom('users')
        .select('id')
        .where('instance_id', '=', instanceId)
        .where('username_key', '=', key)
        .executeTakeFirst();
      return !!r;
    },
    async find(instanceId: string, id: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('users')
        .select(COLUMNS)
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },
    async findByUsernameKey(instanceId: string, key: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('users')
        .select(COLUMNS)
        .where('instance_id', '=', instanceId)
        .where('username_key', '=', key)
        .executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },
    async list(instanceId: string, tx: Executor = db): Promise<UserRecord[]> {
      const rows = await tx
        .selectFrom('users')
        .select(COLUMNS)
        .where('instance_id', '=', instanceId)
        .orderBy('username_key')
        .execute();
      return rows.map(toRecord);
    },
    async count(instanceId: string, tx: Executor = db): Promise<number> {
      const r = await tx
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('instance_id', '=', instanceId)
        .executeTakeFirst();
      return Number(r?.n ?? 0);
    },
    /** Enabled administrators other than `exceptId`. */
    async countActiveAdmins(instanceId: string, exceptId: string, tx: Executor = db) {
      const r = await tx
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('instance_id', '=', instanceId)
        .where('role', '=', 'administrator')
        .where('disabled_at', 'is', null)
        .where('id', '!=', exceptId)
        .executeTakeFirst();
      return Number(r?.n ?? 0);
    },
    async update(instanceId: string, id: string, c: UserChanges, tx: Executor = db) {
      await tx
        .updateTable('users')
        .set({
          ...(c.email !== undefined && { email: c.email }),
          ...(c.firstName !== undefined && { first_name: c.firstName }),
          ...(c.lastName !== undefined && { last_name: c.lastName }),
          ...(c.role !== undefined && { role: c.role }),
          ...(c.passwordHash !== undefined && { password_hash: c.passwordHash }),
          ...(c.twoFactorEnabled !== undefined && {
            two_factor_enabled: c.twoFactorEnabled ? 1 : 0,
          }),
          ...(c.disabledAt !== undefined && { disabled_at: c.disabledAt }),
          updated_at: c.updatedAt,
        })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    async setLastLogin(instanceId: string, id: string, at: string, tx: Executor = db) {
      await tx
        .updateTable('users')
        .set({ last_login_at: at })
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
    async delete(instanceId: string, id: string, tx: Executor = db): Promise<boolean> {
      const res = await tx
        .deleteFrom('users')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(res.numDeletedRows) === 1;
    },
  };
}
export type UserRepo = ReturnType<typeof createUserRepo>;
