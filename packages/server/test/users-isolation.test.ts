import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInstanceRepo } from '../src/instances/instance-repo.js';
import { createTestUser, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const SYSTEM = { actor: { type: 'system' as const, name: 'test' } };

/** Users, tokens and audit chains of one instance are invisible to another. */
for (const dialect of TEST_DIALECTS) {
  describe(`instance isolation of users, tokens and the audit log on ${dialect}`, () => {
    let server: TestServer;
    let other: string;
    let local: TestPrincipal;

    beforeAll(async () => {
      server = await startTestServer(dialect);
      other = randomUUID();
      await createInstanceRepo(server.runtime.db.kysely).insert({
        id: other,
        name: `other-${other.slice(0, 8)}`,
        createdAt: new Date().toISOString(),
        claimedAt: null,
      });
      await server.runtime.audit.ensureChain(other);
      local = await createTestUser(server, 'administrator', 'same-name');
    });
    afterAll(async () => {
      await server?.close();
    });

    it('ok/the same username may exist in two instances, each seeing only its own', async () => {
      const { users } = server.runtime.access;
      const foreign = await users.create(
        other,
        {
          username: 'same-name',
          email: 'x@example.test',
          firstName: 'O',
          lastName: 'I',
          role: 'administrator',
          password: 'other instance passphrase',
        },
        SYSTEM,
      );
      expect((await users.list(other)).map((u) => u.id)).toEqual([foreign.id]);
      expect((await users.list(server.runtime.instance.id)).map((u) => u.id)).not.toContain(
        foreign.id,
      );
      await expect(users.get(server.runtime.instance.id, foreign.id)).rejects.toThrow(/not found/);
    });

    it('fail/a token of one instance is unknown to another', async () => {
      const r = await server.runtime.access.apiTokens.resolve(other, local.token);
      expect(r).toMatchObject({ ok: false, reason: 'unknown' });
    });

    it('ok/each instance has its own audit chain, and both verify', async () => {
      const a = await server.runtime.audit.verify(server.runtime.instance.id);
      const b = await server.runtime.audit.verify(other);
      expect(a.ok && b.ok).toBe(true);
      expect(b.entries).toBe(1);
      const seen = await server.runtime.audit.recent(other, 50);
      expect(seen.map((e) => e.action)).toEqual(['user.create']);
    });
  });
}
