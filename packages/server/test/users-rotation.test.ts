import { describe, expect, it } from 'vitest';
import { totpCode } from '../src/auth/totp-fns.js';
import { openDatabase } from '../src/db/database.js';
import { rotateMasterKey } from '../src/secrets/master-key-rotation.js';
import { createTestUser } from '../src/test-helpers/test-auth.js';
import { createTestClock } from '../src/test-helpers/test-clock.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { startTestServer, testConfig, type TestServer } from '../src/test-helpers/test-server.js';
import { secretFromBase32, signInWithTotp } from '../src/test-helpers/test-sign-in.js';

const silent = { info: () => undefined };

/** Begins a first sign-in: the user must enrol, so a pending enrolment is stored. */
async function startEnrolment(server: TestServer, username: string, password: string) {
  const res = await server.request('POST', '/api/v1/auth/sign-in', {
    body: { username, password },
  });
  const body = res.json<{ status: string; challenge: string; totp: { secret: string } }>();
  expect(body.status).toBe('enrolment-required');
  return { challenge: body.challenge, secret: secretFromBase32(body.totp.secret) };
}

for (const dialect of TEST_DIALECTS) {
  describe(`master-key rotation with users and the audit log on ${dialect}`, () => {
    it('ok/TOTP secrets, pending enrolments and the audit chain key survive a rotation', async () => {
      const clock = createTestClock();
      const first = await startTestServer(dialect, { now: clock.now });
      const alice = await createTestUser(first, 'administrator', 'alice');
      const bob = await createTestUser(first, 'contributor', 'bob');
      // Alice enrols fully; Bob stops after the password, leaving a pending enrolment.
      const a = await startEnrolment(first, 'alice', alice.password);
      const done = await first.request('POST', '/api/v1/auth/sign-in/second-factor', {
        body: { challenge: a.challenge, code: totpCode(a.secret, clock.now()) },
      });
      expect(done.status).toBe(200);
      const b = await startEnrolment(first, 'bob', bob.password);
      await first.close({ keepData: true });

      const db = await openDatabase(first.database.url);
      const result = await rotateMasterKey(testConfig(first.home, first.database.url), db, silent);
      await db.close();
      // Root, TLS and audit keys, the audit chain key, Alice's TOTP secret, Bob's pending enrolment.
      expect(result.rows).toBeGreaterThanOrEqual(6);

      const second = await startTestServer(dialect, {
        database: first.database,
        home: first.home,
        now: clock.now,
      });
      try {
        clock.advance(30_000);
        await signInWithTotp(second, clock.now, 'alice', alice.password, a.secret);
        const bobDone = await second.request('POST', '/api/v1/auth/sign-in/second-factor', {
          body: { challenge: b.challenge, code: totpCode(b.secret, clock.now()) },
        });
        expect(bobDone.status).toBe(200);
        const v = await second.runtime.audit.verify(second.runtime.instance.id);
        expect(v.problems).toEqual([]);
        expect(v.ok).toBe(true);
      } finally {
        await second.close();
      }
    });
  });
}
