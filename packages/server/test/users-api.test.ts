import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  startTestServer,
  type TestResponse,
  type TestServer,
} from '../src/test-helpers/test-server.js';
import { sessionOf, type ConsoleSession } from '../src/test-helpers/test-sign-in.js';

const problemType = (res: TestResponse) => res.json<{ type: string }>().type.split('/').pop();

for (const dialect of TEST_DIALECTS) {
  describe(`users API on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    const PW = 'dave original passphrase';

    const createDave = async () => {
      const res = await server.request('POST', '/api/v1/users', {
        headers: admin.headers,
        body: {
          username: `dave${Date.now()}`,
          email: 'd@example.test',
          firstName: 'Dave',
          lastName: 'D',
          role: 'contributor',
          password: PW,
          twoFactorEnabled: false,
        },
      });
      expect(res.status).toBe(201);
      return res.json<{ id: string; username: string }>();
    };
    const signIn = async (username: string, password: string): Promise<ConsoleSession> => {
      const res = await server.request('POST', '/api/v1/auth/sign-in', {
        body: { username, password },
      });
      expect(res.json()).toMatchObject({ status: 'signed-in' });
      return sessionOf(res);
    };
    const me = (h: Record<string, string>) =>
      server.request('GET', '/api/v1/auth/me', { headers: h });
    const patch = (id: string, body: unknown) =>
      server.request('PATCH', `/api/v1/users/${id}`, { headers: admin.headers, body });
    const lastAudit = async (action: string) =>
      (
        await server.request('GET', `/api/v1/audit?action=${action}&limit=1`, {
          headers: admin.headers,
        })
      ).json<{
        entries: { details: Record<string, unknown>; target: { name: string } }[];
      }>().entries[0];

    beforeAll(async () => {
      server = await startTestServer(dialect);
      ({ admin, contributor } = await createTestUsers(server));
    });
    afterAll(async () => {
      await server?.close();
    });

    it('ok/an administrator edits a profile; the audit entry names the fields', async () => {
      const dave = await createDave();
      const res = await patch(dave.id, { email: 'dave@example.test', lastName: 'Davis' });
      expect(res.json()).toMatchObject({
        email: 'dave@example.test',
        lastName: 'Davis',
        username: dave.username,
      });
      expect(await lastAudit('user.update')).toMatchObject({
        details: { fields: ['email', 'lastName'] },
        target: { name: dave.username },
      });
      const list = await server.request('GET', '/api/v1/users', { headers: admin.headers });
      const listed = list.json<{
        users: { username: string; lastLoginAt: string | null; createdAt: string }[];
      }>().users;
      expect(listed.find((u) => u.username === dave.username)).toMatchObject({
        lastLoginAt: null,
        createdAt: expect.any(String),
      });
    });

    it('ok/disabling a user ends their sessions and stops their tokens; enabling lets them back', async () => {
      const dave = await createDave();
      const session = await signIn(dave.username, PW);
      const tokenRes = await server.request('POST', '/api/v1/tokens', {
        headers: session.headers,
        body: { name: 'dave-ci' },
      });
      const bearer = { authorization: `Bearer ${tokenRes.json<{ token: string }>().token}` };
      expect((await me(bearer)).status).toBe(200);
      expect((await patch(dave.id, { disabled: true })).json()).toMatchObject({ disabled: true });
      expect((await me({ cookie: session.cookie })).status).toBe(401);
      expect((await me(bearer)).status).toBe(401);
      const refused = await server.request('POST', '/api/v1/auth/sign-in', {
        body: { username: dave.username, password: PW },
      });
      expect(refused.status).toBe(401);
      await patch(dave.id, { disabled: false });
      expect((await me(bearer)).status).toBe(200);
      await signIn(dave.username, PW);
    });

    it('ok/an administrator sets a new password: old sessions end, the new password works', async () => {
      const dave = await createDave();
      const session = await signIn(dave.username, PW);
      const weak = await patch(dave.id, { password: `${dave.username}-secret` });
      expect(weak.status).toBe(400);
      expect((await patch(dave.id, { password: 'brand new passphrase' })).status).toBe(200);
      expect((await me({ cookie: session.cookie })).status).toBe(401);
      await signIn(dave.username, 'brand new passphrase');
      expect((await lastAudit('user.password.reset'))?.target.name).toBe(dave.username);
    });

    it('ok/a user changes their own password; their other sessions end, this one stays', async () => {
      const dave = await createDave();
      const a = await signIn(dave.username, PW);
      const b = await signIn(dave.username, PW);
      const wrong = await server.request('POST', '/api/v1/auth/password', {
        headers: a.headers,
        body: { currentPassword: 'nope', newPassword: 'another good passphrase' },
      });
      expect(wrong.status).toBe(403);
      const ok = await server.request('POST', '/api/v1/auth/password', {
        headers: a.headers,
        body: { currentPassword: PW, newPassword: 'another good passphrase' },
      });
      expect(ok.status).toBe(204);
      expect((await me({ cookie: a.cookie })).status).toBe(200);
      expect((await me({ cookie: b.cookie })).status).toBe(401);
    });

    it('ok/deleting a user removes their tokens and sessions, the audit entries stay', async () => {
      const dave = await createDave();
      const session = await signIn(dave.username, PW);
      const tokenRes = await server.request('POST', '/api/v1/tokens', {
        headers: session.headers,
        body: { name: 'gone' },
      });
      const bearer = { authorization: `Bearer ${tokenRes.json<{ token: string }>().token}` };
      const del = await server.request('DELETE', `/api/v1/users/${dave.id}`, {
        headers: admin.headers,
      });
      expect(del.status).toBe(204);
      expect((await me(bearer)).status).toBe(401);
      expect((await me({ cookie: session.cookie })).status).toBe(401);
      expect(
        (await server.request('GET', `/api/v1/users/${dave.id}`, { headers: admin.headers }))
          .status,
      ).toBe(404);
      expect((await lastAudit('user.delete'))?.target.name).toBe(dave.username);
      const created = await server.request(
        'GET',
        `/api/v1/audit?action=user.create&q=${dave.username}`,
        { headers: admin.headers },
      );
      expect(created.json<{ entries: unknown[] }>().entries).toHaveLength(1);
    });

    it("fail/token rules: lifetime limit, revoking someone else's, revoking twice", async () => {
      const long = await server.request('POST', '/api/v1/tokens', {
        headers: admin.headers,
        body: { name: 'forever', expiresInDays: 3650 },
      });
      expect(long.status).toBe(400);
      expect(problemType(long)).toBe('token-lifetime-too-long');
      const own = await server.request('GET', '/api/v1/tokens', { headers: contributor.headers });
      const mine = own.json<{ tokens: { id: string; owner: { username: string } }[] }>().tokens;
      expect(mine.every((t) => t.owner.username === contributor.user.username)).toBe(true);
      const adminTokens = (
        await server.request('GET', '/api/v1/tokens?mine=true', { headers: admin.headers })
      ).json<{ tokens: { id: string }[] }>().tokens;
      const notMine = await server.request('DELETE', `/api/v1/tokens/${adminTokens[0]!.id}`, {
        headers: contributor.headers,
      });
      expect(notMine.status).toBe(404);
      const extra = await server.request('POST', '/api/v1/tokens', {
        headers: contributor.headers,
        body: { name: 'extra' },
      });
      const id = extra.json<{ id: string }>().id;
      expect(
        (await server.request('DELETE', `/api/v1/tokens/${id}`, { headers: contributor.headers }))
          .status,
      ).toBe(200);
      expect(
        (await server.request('DELETE', `/api/v1/tokens/${id}`, { headers: contributor.headers }))
          .status,
      ).toBe(409);
    });

    it('ok/two-factor reset and recovery code rules', async () => {
      const reset = await server.request(
        'POST',
        `/api/v1/users/${contributor.user.id}/two-factor/reset`,
        { headers: admin.headers },
      );
      expect(reset.json()).toMatchObject({ twoFactorEnabled: true, twoFactorEnrolled: false });
      const notEnrolled = await server.request('POST', '/api/v1/auth/recovery-codes', {
        headers: contributor.headers,
        body: { password: contributor.password },
      });
      expect(notEnrolled.status).toBe(409);
      const wrong = await server.request('POST', '/api/v1/auth/recovery-codes', {
        headers: contributor.headers,
        body: { password: 'not it at all' },
      });
      expect(wrong.status).toBe(403);
    });
  });
}
