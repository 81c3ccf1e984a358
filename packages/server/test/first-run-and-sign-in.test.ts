import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../src/auth/totp-fns.js';
import { createTestClock } from '../src/test-helpers/test-clock.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  startTestServer,
  type TestResponse,
  type TestServer,
} from '../src/test-helpers/test-server.js';
import {
  secretFromBase32,
  sessionCookieOf,
  sessionOf,
  signInWithTotp,
  type ConsoleSession,
} from '../src/test-helpers/test-sign-in.js';

interface AuditEntry {
  seq: number;
  action: string;
  result: string;
  actor: { name: string };
  details: Record<string, unknown>;
}

const problemType = (res: TestResponse) => res.json<{ type: string }>().type.split('/').pop();

/**
 * The first run as a new user lives it: setup link, first administrator with TOTP, sign-in,
 * a contributor, and every refusal the issue names, each with its audit entry.
 */
for (const dialect of TEST_DIALECTS) {
  describe(`first run and sign-in on ${dialect}`, () => {
    const clock = createTestClock();
    let server: TestServer;
    let adminSecret: Buffer;
    let admin: ConsoleSession;
    let contributorSecret: Buffer;
    let contributorId: string;
    let recoveryCodes: string[];
    const ADMIN_PW = 'correct horse battery staple';
    const CONTRIB_PW = 'contributor passphrase 42';
    const nextStep = () => clock.advance(30_000);
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      server.request('POST', path, { body, headers });
    const auditOf = async (action: string): Promise<AuditEntry[]> => {
      const res = await server.request('GET', `/api/v1/audit?action=${action}&limit=100`, {
        headers: admin.headers,
      });
      expect(res.status).toBe(200);
      return res.json<{ entries: AuditEntry[] }>().entries;
    };

    beforeAll(async () => {
      server = await startTestServer(dialect, {
        now: clock.now,
        env: {
          TRUSTLINK_SIGN_IN_ACCOUNT_FAILURES: '3',
          TRUSTLINK_SESSION_MAX_HOURS: '1',
          TRUSTLINK_AUDIT_CHECKPOINT_SECONDS: '0',
        },
      });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('fail/nobody claims the instance without the setup link', async () => {
      const res = await post('/api/v1/setup/check', { token: 'not-the-token' });
      expect(res.status).toBe(403);
      expect(problemType(res)).toBe('setup-link-invalid');
      const claim = await post('/api/v1/setup', {
        token: 'not-the-token',
        username: 'mallory',
        email: 'm@example.test',
        firstName: 'M',
        lastName: 'M',
        password: 'a long enough password',
        enrolmentId: '00000000-0000-4000-8000-000000000000',
        code: '123456',
      });
      expect(claim.status).toBe(403);
    });

    it('ok/the setup link creates the first administrator with an authenticator app', async () => {
      const token = server.setupUrl!.split('#token=')[1]!;
      const check = await post('/api/v1/setup/check', { token, username: 'admin' });
      expect(check.status).toBe(200);
      const { totp } = check.json<{
        totp: { enrolmentId: string; otpauthUri: string; qrCode: string; secret: string };
      }>();
      expect(totp.otpauthUri).toMatch(/^otpauth:\/\/totp\/Trustlink:admin\?.*secret=/);
      expect(totp.qrCode).toMatch(/^data:image\/svg\+xml;base64,/);
      adminSecret = secretFromBase32(totp.secret);
      const body = {
        token,
        username: 'admin',
        email: 'admin@example.test',
        firstName: 'Ada',
        lastName: 'Admin',
        password: ADMIN_PW,
        enrolmentId: totp.enrolmentId,
      };
      const wrong = await post('/api/v1/setup', { ...body, code: '000000' });
      expect(wrong.status).toBe(400);
      expect(problemType(wrong)).toBe('invalid-second-factor');

      const ok = await post('/api/v1/setup', { ...body, code: totpCode(adminSecret, clock.now()) });
      expect(ok.status).toBe(201);
      const claimed = ok.json<{
        user: { role: string; twoFactorEnrolled: boolean };
        recoveryCodes: string[];
      }>();
      expect(claimed.user).toMatchObject({ role: 'administrator', twoFactorEnrolled: true });
      expect(claimed.recoveryCodes).toHaveLength(10);
      recoveryCodes = claimed.recoveryCodes;
    });

    it('fail/the setup link works once', async () => {
      const token = server.setupUrl!.split('#token=')[1]!;
      expect((await post('/api/v1/setup/check', { token })).status).toBe(409);
    });

    it('ok/the administrator signs in with password and TOTP code; the cookie is locked down', async () => {
      nextStep();
      const first = await post('/api/v1/auth/sign-in', { username: 'admin', password: ADMIN_PW });
      expect(first.json()).toMatchObject({ status: 'second-factor-required' });
      expect(sessionCookieOf(first)).toBeUndefined();
      const { challenge } = first.json<{ challenge: string }>();
      const second = await post('/api/v1/auth/sign-in/second-factor', {
        challenge,
        code: totpCode(adminSecret, clock.now()),
      });
      expect(second.status).toBe(200);
      const setCookie = String(second.headers['set-cookie']);
      expect(setCookie).toMatch(/^__Host-trustlink-session=/);
      for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/'])
        expect(setCookie).toContain(attr);
      admin = sessionOf(second);
      const me = await server.request('GET', '/api/v1/auth/me', {
        headers: { cookie: admin.cookie },
      });
      expect(me.json()).toMatchObject({
        user: { username: 'admin', role: 'administrator' },
        method: 'session',
        csrfToken: admin.csrf,
      });
      const signIns = await auditOf('auth.sign-in');
      expect(signIns[0]).toMatchObject({
        result: 'ok',
        actor: { name: 'admin' },
        details: { method: 'password+totp' },
      });
    });

    it('fail/a POST without the CSRF token is refused and audited', async () => {
      const user = {
        username: 'x1',
        email: 'x@example.test',
        firstName: 'X',
        lastName: 'Y',
        role: 'contributor',
        password: 'another long password',
      };
      const none = await post('/api/v1/users', user, { cookie: admin.cookie });
      expect(none.status).toBe(403);
      expect(problemType(none)).toBe('csrf-failed');
      const wrong = await post('/api/v1/users', user, {
        cookie: admin.cookie,
        'x-csrf-token': 'forged',
      });
      expect(wrong.status).toBe(403);
      const entries = await auditOf('auth.csrf.rejected');
      expect(entries.map((e) => e.details.reason)).toEqual([
        'wrong CSRF token',
        'missing CSRF token',
      ]);
      expect(entries.every((e) => e.result === 'denied')).toBe(true);
    });

    it('ok/the administrator creates a contributor; usernames are unique and immutable', async () => {
      const res = await post(
        '/api/v1/users',
        {
          username: 'carol',
          email: 'carol@example.test',
          firstName: 'Carol',
          lastName: 'Contrib',
          role: 'contributor',
          password: CONTRIB_PW,
        },
        admin.headers,
      );
      expect(res.status).toBe(201);
      const carol = res.json<{
        id: string;
        twoFactorEnabled: boolean;
        twoFactorEnrolled: boolean;
      }>();
      expect(carol).toMatchObject({ twoFactorEnabled: true, twoFactorEnrolled: false });
      contributorId = carol.id;
      const dup = await post(
        '/api/v1/users',
        {
          username: 'CAROL',
          email: 'c2@example.test',
          firstName: 'C',
          lastName: 'C',
          role: 'contributor',
          password: CONTRIB_PW,
        },
        admin.headers,
      );
      expect(dup.status).toBe(409);
      const rename = await server.request('PATCH', `/api/v1/users/${carol.id}`, {
        body: { username: 'caroline' },
        headers: admin.headers,
      });
      expect(rename.status).toBe(400);
      expect(rename.text).toMatch(/usernames cannot be changed/);
      const bad = await post(
        '/api/v1/users',
        {
          username: 'bad name!',
          email: 'b@example.test',
          firstName: 'B',
          lastName: 'B',
          role: 'contributor',
          password: CONTRIB_PW,
        },
        admin.headers,
      );
      expect(bad.status).toBe(400);
    });

    it('ok/the contributor enrols an authenticator at first sign-in', async () => {
      const first = await post('/api/v1/auth/sign-in', { username: 'carol', password: CONTRIB_PW });
      const body = first.json<{ status: string; challenge: string; totp: { secret: string } }>();
      expect(body.status).toBe('enrolment-required');
      contributorSecret = secretFromBase32(body.totp.secret);
      const wrong = await post('/api/v1/auth/sign-in/second-factor', {
        challenge: body.challenge,
        code: '000000',
      });
      expect(wrong.status).toBe(401);
      const ok = await post('/api/v1/auth/sign-in/second-factor', {
        challenge: body.challenge,
        code: totpCode(contributorSecret, clock.now()),
      });
      expect(ok.status).toBe(200);
      expect(ok.json<{ recoveryCodes: string[] }>().recoveryCodes).toHaveLength(10);
      expect((await auditOf('user.two-factor.enrol'))[0]).toMatchObject({
        actor: { name: 'carol' },
        result: 'ok',
      });
    });

    it('fail/a contributor gets 403 from user management and verification, but reads the log', async () => {
      nextStep();
      const carol = await signInWithTotp(server, clock.now, 'carol', CONTRIB_PW, contributorSecret);
      const h = carol.headers;
      expect((await server.request('GET', '/api/v1/users', { headers: h })).status).toBe(403);
      expect((await post('/api/v1/users', { username: 'eve' }, h)).status).toBe(403);
      expect(
        (await server.request('DELETE', `/api/v1/users/${contributorId}`, { headers: h })).status,
      ).toBe(403);
      expect((await post('/api/v1/audit/verify', {}, h)).status).toBe(403);
      expect((await server.request('GET', '/api/v1/audit/recent', { headers: h })).status).toBe(
        200,
      );
      const me = await server.request('GET', '/api/v1/auth/me', { headers: h });
      expect(me.json()).toMatchObject({ user: { username: 'carol', role: 'contributor' } });
      const denied = await auditOf('access.denied');
      expect(denied.length).toBe(4);
      expect(denied.every((e) => e.actor.name === 'carol' && e.result === 'denied')).toBe(true);
    });

    it('fail/a wrong TOTP code is refused and audited', async () => {
      nextStep();
      const first = await post('/api/v1/auth/sign-in', { username: 'admin', password: ADMIN_PW });
      const { challenge } = first.json<{ challenge: string }>();
      const res = await post('/api/v1/auth/sign-in/second-factor', { challenge, code: '000000' });
      expect(res.status).toBe(401);
      expect(problemType(res)).toBe('invalid-second-factor');
      expect((await auditOf('auth.second-factor'))[0]).toMatchObject({
        result: 'failed',
        actor: { name: 'admin' },
        details: { reason: 'invalid code' },
      });
      // The same challenge still takes the right code.
      const ok = await post('/api/v1/auth/sign-in/second-factor', {
        challenge,
        code: totpCode(adminSecret, clock.now()),
      });
      expect(ok.status).toBe(200);
    });

    it('fail/a replayed TOTP code is refused and audited', async () => {
      // The code of this time step was used by the sign-in just before.
      const used = totpCode(adminSecret, clock.now());
      const first = await post('/api/v1/auth/sign-in', { username: 'admin', password: ADMIN_PW });
      const { challenge } = first.json<{ challenge: string }>();
      const res = await post('/api/v1/auth/sign-in/second-factor', { challenge, code: used });
      expect(res.status).toBe(401);
      expect(problemType(res)).toBe('replayed-second-factor');
      expect(res.json<{ detail: string }>().detail).toMatch(/already used/);
      expect((await auditOf('auth.second-factor'))[0]).toMatchObject({
        result: 'failed',
        details: { reason: 'replayed code' },
      });
    });

    it('ok/a recovery code signs in once', async () => {
      const code = recoveryCodes[0]!;
      const a = await post('/api/v1/auth/sign-in', { username: 'admin', password: ADMIN_PW });
      const ok = await post('/api/v1/auth/sign-in/second-factor', {
        challenge: a.json<{ challenge: string }>().challenge,
        recoveryCode: code,
      });
      expect(ok.status).toBe(200);
      const b = await post('/api/v1/auth/sign-in', { username: 'admin', password: ADMIN_PW });
      const again = await post('/api/v1/auth/sign-in/second-factor', {
        challenge: b.json<{ challenge: string }>().challenge,
        recoveryCode: code,
      });
      expect(again.status).toBe(401);
    });

    it('fail/a bad API token is refused and audited', async () => {
      for (const authorization of [
        `Bearer tlk_${'x'.repeat(43)}`,
        'Bearer nonsense',
        'Basic YWRtaW46cHc=',
      ]) {
        const res = await server.request('GET', '/api/v1/auth/me', { headers: { authorization } });
        expect(res.status).toBe(401);
        expect(problemType(res)).toBe('invalid-token');
      }
      const entries = await auditOf('auth.token.rejected');
      expect(entries.map((e) => e.details.reason)).toEqual([
        'unsupported Authorization scheme',
        'malformed',
        'unknown',
      ]);
    });

    it('ok/API tokens: shown once, listed without the secret, act with the owner role, revocable', async () => {
      const made = await post('/api/v1/tokens', { name: 'ci', expiresInDays: 30 }, admin.headers);
      expect(made.status).toBe(201);
      const { token, id, hint } = made.json<{ token: string; id: string; hint: string }>();
      expect(token.endsWith(hint)).toBe(true);
      const bearer = { authorization: `Bearer ${token}` };
      expect((await server.request('GET', '/api/v1/users', { headers: bearer })).status).toBe(200);
      // A token is not a browser session: no CSRF token is needed.
      expect((await post('/api/v1/audit/verify', {}, bearer)).status).toBe(200);
      const list = await server.request('GET', '/api/v1/tokens', { headers: admin.headers });
      expect(list.text).not.toContain(token);
      expect(list.json<{ tokens: { id: string; status: string }[] }>().tokens).toContainEqual(
        expect.objectContaining({ id, status: 'active' }),
      );
      const revoked = await server.request('DELETE', `/api/v1/tokens/${id}`, {
        headers: admin.headers,
      });
      expect(revoked.status).toBe(200);
      expect((await server.request('GET', '/api/v1/users', { headers: bearer })).status).toBe(401);
      expect((await auditOf('auth.token.rejected'))[0]!.details.reason).toBe('revoked');
      expect((await auditOf('token.revoke'))[0]).toMatchObject({
        result: 'ok',
        actor: { name: 'admin' },
      });
    });

    it('fail/an unknown user and a wrong password get the same answer; repeated failures must wait', async () => {
      const unknown = await post('/api/v1/auth/sign-in', {
        username: 'nobody',
        password: 'whatever password',
      });
      const wrong = await post('/api/v1/auth/sign-in', {
        username: 'admin',
        password: 'wrong password!!',
      });
      expect(unknown.status).toBe(401);
      expect(wrong.status).toBe(401);
      const strip = (r: TestResponse) => ({ ...r.json<object>(), requestId: undefined });
      expect(strip(unknown)).toEqual(strip(wrong));
      await post('/api/v1/auth/sign-in', { username: 'admin', password: 'wrong password!!' });
      await post('/api/v1/auth/sign-in', { username: 'admin', password: 'wrong password!!' });
      const blocked = await post('/api/v1/auth/sign-in', { username: 'admin', password: ADMIN_PW });
      expect(blocked.status).toBe(429);
      const wait = Number(blocked.headers['retry-after']);
      expect(wait).toBeGreaterThan(0);
      expect((await auditOf('auth.sign-in'))[0]).toMatchObject({
        result: 'denied',
        details: { reason: 'throttled' },
      });
      clock.advance(wait * 1000);
      const after = await post('/api/v1/auth/sign-in', { username: 'admin', password: ADMIN_PW });
      expect(after.json()).toMatchObject({ status: 'second-factor-required' });
    });

    it('ok/an administrator switches two-factor off for one user, and it is audited', async () => {
      const res = await server.request('PATCH', `/api/v1/users/${contributorId}`, {
        body: { twoFactorEnabled: false },
        headers: admin.headers,
      });
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ twoFactorEnabled: false, twoFactorEnrolled: false });
      expect((await auditOf('user.two-factor.disable'))[0]).toMatchObject({
        actor: { name: 'admin' },
        result: 'ok',
      });
      const signIn = await post('/api/v1/auth/sign-in', {
        username: 'carol',
        password: CONTRIB_PW,
      });
      expect(signIn.json()).toMatchObject({ status: 'signed-in', user: { username: 'carol' } });
    });

    it('fail/the last administrator cannot be demoted, disabled or deleted', async () => {
      const me = await server.request('GET', '/api/v1/auth/me', { headers: admin.headers });
      const adminId = me.json<{ user: { id: string } }>().user.id;
      for (const body of [{ role: 'contributor' }, { disabled: true }]) {
        const res = await server.request('PATCH', `/api/v1/users/${adminId}`, {
          body,
          headers: admin.headers,
        });
        expect(res.status).toBe(409);
        expect(problemType(res)).toBe('last-administrator');
      }
      expect(
        (await server.request('DELETE', `/api/v1/users/${adminId}`, { headers: admin.headers }))
          .status,
      ).toBe(409);
    });

    it('fail/an expired session is refused and audited (idle and absolute timeouts)', async () => {
      clock.advance(31 * 60_000);
      const idle = await server.request('GET', '/api/v1/auth/me', {
        headers: { cookie: admin.cookie },
      });
      expect(idle.status).toBe(401);
      expect(problemType(idle)).toBe('session-expired');
      nextStep();
      admin = await signInWithTotp(server, clock.now, 'admin', ADMIN_PW, adminSecret);
      const rejected = await auditOf('auth.session.rejected');
      expect(rejected[0]).toMatchObject({ result: 'denied', details: { reason: 'idle-timeout' } });
      // Active all along, the session still ends an hour after sign-in (TRUSTLINK_SESSION_MAX_HOURS=1).
      for (let i = 0; i < 3; i++) {
        clock.advance(20 * 60_000);
        const res = await server.request('GET', '/api/v1/auth/me', {
          headers: { cookie: admin.cookie },
        });
        expect(res.status).toBe(i < 2 ? 200 : 401);
      }
      nextStep();
      admin = await signInWithTotp(server, clock.now, 'admin', ADMIN_PW, adminSecret);
      expect((await auditOf('auth.session.rejected'))[0]!.details.reason).toBe('expired');
    });

    it('ok/sign-out ends the session', async () => {
      const session = admin;
      nextStep();
      admin = await signInWithTotp(server, clock.now, 'admin', ADMIN_PW, adminSecret);
      const out = await post('/api/v1/auth/sign-out', {}, session.headers);
      expect(out.status).toBe(204);
      const after = await server.request('GET', '/api/v1/auth/me', {
        headers: { cookie: session.cookie },
      });
      expect(after.status).toBe(401);
      expect(problemType(after)).toBe('invalid-session');
    });

    it('ok/the last activity shows what happened and the whole log verifies', async () => {
      const recent = await server.request('GET', '/api/v1/audit/recent?limit=10', {
        headers: admin.headers,
      });
      expect(recent.json<{ entries: unknown[] }>().entries).toHaveLength(10);
      const v = await post('/api/v1/audit/verify', {}, admin.headers);
      expect(v.json()).toMatchObject({ ok: true, problems: [] });
      const setup = await auditOf('setup.claim');
      expect(setup.map((e) => e.result)).toEqual(['ok', 'denied', 'denied']);
    });
  });
}

for (const dialect of TEST_DIALECTS) {
  describe(`setup link expiry on ${dialect}`, () => {
    it('fail/an expired setup link is refused', async () => {
      const clock = createTestClock();
      const server = await startTestServer(dialect, { now: clock.now });
      try {
        const token = server.setupUrl!.split('#token=')[1]!;
        clock.advance(61 * 60_000);
        const res = await server.request('POST', '/api/v1/setup/check', { body: { token } });
        expect(res.status).toBe(403);
        expect(problemType(res)).toBe('setup-link-invalid');
      } finally {
        await server.close();
      }
    });
  });
}
