import type { Selectable } from 'kysely';
import type { Executor } from '../db/database.js';
import type { AuthCertRule } from './auth-cert-fns.js';
import type { AuthCertTables } from './auth-cert-tables.js';

export interface AuthCert {
  id: string;
  name: string;
  batchId: string;
  rule: AuthCertRule;
  subject: string;
  fingerprint: string;
  notBefore: string;
  notAfter: string;
  der: Buffer;
  createdAt: string;
}

const toAuthCert = (r: Selectable<AuthCertTables['auth_certs']>): AuthCert => ({
  id: r.id,
  name: r.name,
  batchId: r.batch_id,
  rule: r.rule as AuthCertRule,
  subject: r.subject,
  fingerprint: r.fingerprint,
  notBefore: r.not_before,
  notAfter: r.not_after,
  der: Buffer.from(r.der),
  createdAt: r.created_at,
});

/** Auth certs of one instance. */
export function createAuthCertRepo(db: Executor) {
  return {
    async insert(instanceId: string, c: AuthCert, tx: Executor = db): Promise<void> {
      await tx
        .insertInto('auth_certs')
        .values({
          instance_id: instanceId,
          id: c.id,
          name: c.name,
          batch_id: c.batchId,
          rule: c.rule,
          subject: c.subject,
          fingerprint: c.fingerprint,
          not_before: c.notBefore,
          not_after: c.notAfter,
          der: c.der,
          created_at: c.createdAt,
        })
        .execute();
    },
    async list(instanceId: string, tx: Executor = db): Promise<AuthCert[]> {
      return (
        await tx
          .selectFrom('auth_certs')
          .selectAll()
          .where('instance_id', '=', instanceId)
          .orderBy('name')
          .execute()
      ).map(toAuthCert);
    },
    async find(instanceId: string, id: string, tx: Executor = db): Promise<AuthCert | undefined> {
      const r = await tx
        .selectFrom('auth_certs')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? toAuthCert(r) : undefined;
    },
    async findByFingerprint(
      instanceId: string,
      fingerprint: string,
      tx: Executor = db,
    ): Promise<AuthCert | undefined> {
      const r = await tx
        .selectFrom('auth_certs')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .where('fingerprint', '=', fingerprint)
        .executeTakeFirst();
      return r ? toAuthCert(r) : undefined;
    },
    async delete(instanceId: string, id: string, tx: Executor = db): Promise<void> {
      await tx
        .deleteFrom('auth_certs')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .execute();
    },
  };
}
export type AuthCertRepo = ReturnType<typeof createAuthCertRepo>;
