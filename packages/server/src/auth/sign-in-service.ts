import type { AuditService } from '../audit/audit-service.js';
import type { AuditActor, AuditContext } from '../audit/audit-types.js';
import type { Db } from '../db/database.js';
import { ConflictError, ForbiddenError, UnauthorizedError } from '../lib/errors.js';
import { usernameKey } from '../users/users-fns.js';
import type { UserService } from '../users/users-service.js';
import type { UserRecord } from '../users/users-types.js';
import { createChallengeRepo, type ChallengeKind } from './challenge-repo.js';
import type { PasswordHasher } from './password-hasher.js';
import type { SecondFactorService, TotpEnrolment } from './second-factor-service.js';
import type { NewSession, SessionService } from './session-service.js';
import type { ThrottleService, ThrottleSubject } from './throttle-service.js';
import { hashSecret, randomToken } from './token-fns.js';

const CHALLENGE_MINUTES = 5;
const CHALLENGE_ATTEMPTS = 5;
/** The one message for an unknown user, a wrong password and a disabled account. */
const INVALID_CREDENTIALS = 'invalid username or password';

export interface SignInClient {
  sourceAddress: string;
  userAgent: string;
}

export type SignInResult =
  | { status: 'signed-in'; user: UserRecord; session: NewSession; recoveryCodes?: string[] }
  | { status: 'second-factor-required'; challenge: string; expiresAt: string }
  | {
      status: 'enrolment-required';
      challenge: string;
      expiresAt: string;
      totp: TotpEnrolment;
    };

export interface SignInDeps {
  db: Db;
  users: UserService;
  passwords: PasswordHasher;
  secondFactor: SecondFactorService;
  sessions: SessionService;
  throttle: ThrottleService;
  audit: AuditService;
  now: () => Date;
}

/**
 * Sign-in in two steps: the password, then (with two-factor on) a TOTP code or a recovery
 * code, or, for a user without an authenticator yet, enrolment of one. Between the steps the
 * client holds a short-lived single-purpose challenge, never a session.
 */
export function createSignInService(deps: SignInDeps) {
  const { db, users, passwords, secondFactor, sessions, throttle, audit, now } = deps;
  const challenges = createChallengeRepo(db.kysely);

  const subjects = (username: string, client: SignInClient): ThrottleSubject[] => [
    { scope: 'account', subject: usernameKey(username).slice(0, 64) },
    { scope: 'address', subject: client.sourceAddress },
  ];
  const userActor = (u: { id: string; username: string }): AuditActor => ({
    type: 'user',
    id: u.id,
    name: u.username,
  });

  async function failed(
    instanceId: string,
    actor: AuditActor,
    action: string,
    reason: string,
    client: SignInClient,
    throttled: ThrottleSubject[],
  ) {
    await throttle.fail(instanceId, throttled);
    await audit.record({
      instanceId,
      actor,
      action,
      result: 'failed',
      sourceAddress: client.sourceAddress,
      details: { reason },
    });
  }

  async function guard(
    instanceId: string,
    actor: AuditActor,
    action: string,
    s: ThrottleSubject[],
    client: SignInClient,
  ) {
    const wait = await throttle.waitSeconds(instanceId, s);
    if (wait > 0) {
      await audit.record({
        instanceId,
        actor,
        action,
        result: 'denied',
        sourceAddress: client.sourceAddress,
        details: { reason: 'throttled', retryAfterSeconds: wait },
      });
      await throttle.assertAllowed(instanceId, s);
    }
  }

  async function complete(
    instanceId: string,
    user: UserRecord,
    method: string,
    client: SignInClient,
    extra: Record<string, unknown> = {},
  ) {
    const session = await db.kysely.transaction().execute(async (tx) => {
      const s = await sessions.create(instanceId, user.id, client, tx);
      await users.recordLogin(instanceId, user.id, tx);
      await audit.record(
        {
          instanceId,
          actor: userActor(user),
          action: 'auth.sign-in',
          target: { type: 'session', id: s.id },
          result: 'ok',
          sourceAddress: client.sourceAddress,
          details: { method, ...extra },
        },
        tx,
      );
      return s;
    });
    await throttle.succeed(instanceId, usernameKey(user.username));
    return session;
  }

  async function newChallenge(
    instanceId: string,
    userId: string,
    kind: ChallengeKind,
    enrolmentId: string | null,
  ) {
    const token = randomToken();
    const t = now();
    const expiresAt = new Date(t.getTime() + CHALLENGE_MINUTES * 60_000).toISOString();
    await challenges.insert(instanceId, {
      tokenHash: hashSecret(token),
      userId,
      kind,
      enrolmentId,
      attempts: 0,
      createdAt: t.toISOString(),
      expiresAt,
    });
    return { challenge: token, expiresAt };
  }

  return {
    /** Step 1: username and password. */
    async password(
      instanceId: string,
      input: { username: string; password: string },
      client: SignInClient,
    ): Promise<SignInResult> {
      const s = subjects(input.username, client);
      const typed: AuditActor = { type: 'user', id: null, name: input.username.slice(0, 64) };
      await guard(instanceId, typed, 'auth.sign-in', s, client);
      const user = await users.findByUsername(instanceId, input.username);
      // Unknown users cost one argon2 verification too, so timing does not tell them apart.
      const ok = user
        ? await passwords.verify(user.passwordHash, input.password)
        : (await passwords.burn(input.password), false);
      if (!user || !ok || user.disabledAt) {
        const reason = !user ? 'unknown user' : !ok ? 'wrong password' : 'account disabled';
        await failed(instanceId, user ? userActor(user) : typed, 'auth.sign-in', reason, client, s);
        throw new UnauthorizedError(INVALID_CREDENTIALS, reason, 'invalid-credentials');
      }
      if (!user.twoFactorEnabled) {
        return {
          status: 'signed-in',
          user,
          session: await complete(instanceId, user, 'password', client),
        };
      }
      if (await secondFactor.isEnrolled(instanceId, user.id)) {
        return {
          status: 'second-factor-required',
          ...(await newChallenge(instanceId, user.id, 'verify', null)),
        };
      }
      const totp = await secondFactor.startEnrolment(instanceId, user.username);
      return {
        status: 'enrolment-required',
        ...(await newChallenge(instanceId, user.id, 'enrol', totp.enrolmentId)),
        totp,
      };
    },

    /** Step 2: a TOTP code (or a recovery code) for the challenge from step 1. */
    async secondFactor(
      instanceId: string,
      input: { challenge: string; code?: string; recoveryCode?: string },
      client: SignInClient,
    ): Promise<SignInResult> {
      const tokenHash = hashSecret(input.challenge);
      const ch = await challenges.find(instanceId, tokenHash);
      const user = ch && (await users.findRecord(instanceId, ch.userId));
      const live =
        ch &&
        user &&
        !user.disabledAt &&
        ch.expiresAt > now().toISOString() &&
        ch.attempts < CHALLENGE_ATTEMPTS;
      if (!ch || !user || !live) {
        if (ch) await challenges.delete(instanceId, tokenHash);
        await audit.record({
          instanceId,
          actor: user ? userActor(user) : { type: 'user', id: null, name: '(unknown)' },
          action: 'auth.second-factor',
          result: 'failed',
          sourceAddress: client.sourceAddress,
          details: { reason: 'unknown, expired or used-up sign-in challenge' },
        });
        throw new UnauthorizedError(
          'this sign-in attempt expired or is unknown; sign in again with your password',
          undefined,
          'sign-in-expired',
        );
      }
      const s = subjects(user.username, client);
      await guard(instanceId, userActor(user), 'auth.second-factor', s, client);
      const reject = async (reason: string, message: string, type: string) => {
        await challenges.countAttempt(instanceId, tokenHash);
        await failed(instanceId, userActor(user), 'auth.second-factor', reason, client, s);
        throw new UnauthorizedError(message, reason, type);
      };

      if (ch.kind === 'enrol') {
        const checked = await secondFactor.checkEnrolment(
          instanceId,
          ch.enrolmentId!,
          input.code ?? '',
        );
        if (!checked.ok) {
          return reject(
            `enrolment code ${checked.reason}`,
            'invalid two-factor code',
            'invalid-second-factor',
          );
        }
        if (!(await challenges.delete(instanceId, tokenHash))) {
          return reject(
            'challenge used twice',
            'this sign-in attempt was already completed',
            'sign-in-expired',
          );
        }
        const recoveryCodes = await db.kysely.transaction().execute(async (tx) => {
          await secondFactor.completeEnrolment(instanceId, user.id, ch.enrolmentId!, checked, tx);
          const codes = await secondFactor.issueRecoveryCodes(instanceId, user.id, tx);
          await audit.record(
            {
              instanceId,
              actor: userActor(user),
              action: 'user.two-factor.enrol',
              target: { type: 'user', id: user.id, name: user.username },
              result: 'ok',
              sourceAddress: client.sourceAddress,
            },
            tx,
          );
          return codes;
        });
        const session = await complete(instanceId, user, 'password+totp-enrolment', client);
        return { status: 'signed-in', user, session, recoveryCodes };
      }

      if (input.recoveryCode) {
        if (!(await secondFactor.useRecoveryCode(instanceId, user.id, input.recoveryCode))) {
          return reject('invalid recovery code', 'invalid recovery code', 'invalid-second-factor');
        }
        await challenges.delete(instanceId, tokenHash);
        const remaining = await secondFactor.remainingRecoveryCodes(instanceId, user.id);
        const session = await complete(instanceId, user, 'password+recovery-code', client, {
          recoveryCodesLeft: remaining,
        });
        return { status: 'signed-in', user, session };
      }
      const m = await secondFactor.verifyCode(instanceId, user.id, input.code ?? '');
      if (!m.ok) {
        return m.reason === 'replayed'
          ? reject(
              'replayed code',
              'this code was already used; wait for the next code from your authenticator app',
              'replayed-second-factor',
            )
          : reject('invalid code', 'invalid two-factor code', 'invalid-second-factor');
      }
      if (!(await challenges.delete(instanceId, tokenHash))) {
        return reject(
          'challenge used twice',
          'this sign-in attempt was already completed',
          'sign-in-expired',
        );
      }
      return {
        status: 'signed-in',
        user,
        session: await complete(instanceId, user, 'password+totp', client),
      };
    },

    /** New recovery codes for a signed-in user, after they type their password again. */
    async regenerateRecoveryCodes(
      instanceId: string,
      userId: string,
      password: string,
      ctx: AuditContext,
    ): Promise<string[]> {
      const user = await users.findRecord(instanceId, userId);
      if (!user || !(await passwords.verify(user.passwordHash, password))) {
        await audit.record({
          instanceId,
          ...ctx,
          action: 'user.recovery-codes.regenerate',
          result: 'denied',
          details: { reason: 'wrong password' },
        });
        throw new ForbiddenError('the password is wrong', 'wrong-password');
      }
      if (!(await secondFactor.isEnrolled(instanceId, userId))) {
        throw new ConflictError(
          'recovery codes need an enrolled authenticator app; two-factor is off for this account',
          'two-factor-not-enrolled',
        );
      }
      return db.kysely.transaction().execute(async (tx) => {
        const codes = await secondFactor.issueRecoveryCodes(instanceId, userId, tx);
        await audit.record(
          {
            instanceId,
            ...ctx,
            action: 'user.recovery-codes.regenerate',
            target: { type: 'user', id: user.id, name: user.username },
            result: 'ok',
          },
          tx,
        );
        return codes;
      });
    },
  };
}
export type SignInService = ReturnType<typeof createSignInService>;
