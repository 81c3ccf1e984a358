import { randomUUID } from 'node:crypto';
import type { Executor } from '../db/database.js';
import type { SealContext, SecretBox } from '../secrets/secret-box.js';
import { createSecondFactorRepo } from './second-factor-repo.js';
import { hashRecoveryCode, newRecoveryCode } from './token-fns.js';
import {
  matchTotp,
  newTotpSecret,
  otpauthUri,
  qrCodeDataUrl,
  totpSecretBase32,
  type TotpMatch,
} from './totp-fns.js';

const ISSUER = 'Trustlink';
const ENROLMENT_MINUTES = 15;
const ENROLMENT_ATTEMPTS = 5;
export const RECOVERY_CODE_COUNT = 10;

/** What someone enrolling sees: the secret as URI, QR code and text, and the enrolment id. */
export interface TotpEnrolment {
  enrolmentId: string;
  otpauthUri: string;
  qrCode: string;
  secret: string;
  expiresAt: string;
}

export type EnrolmentCheck =
  | { ok: true; secret: Buffer; step: number }
  | { ok: false; reason: 'unknown' | 'expired' | 'too-many-attempts' | 'invalid' };

const enrolmentCtx = (instanceId: string, id: string): SealContext => ({
  instanceId,
  table: 'totp_enrolments',
  row: id,
  column: 'secret',
});
const userCtx = (instanceId: string, userId: string): SealContext => ({
  instanceId,
  table: 'user_totp',
  row: userId,
  column: 'secret',
});

/**
 * TOTP second factor (RFC 6238) and recovery codes. Secrets are sealed under the master key;
 * an enrolment becomes a user's factor only after a correct code proves the app has it.
 */
export function createSecondFactorService(deps: { db: Executor; box: SecretBox; now: () => Date }) {
  const { db, box, now } = deps;
  const repo = createSecondFactorRepo(db);

  return {
    /** Makes a new secret for `label` (the username shown in the app). */
    async startEnrolment(instanceId: string, label: string): Promise<TotpEnrolment> {
      const id = randomUUID();
      const secret = newTotpSecret();
      const t = now();
      const expiresAt = new Date(t.getTime() + ENROLMENT_MINUTES * 60_000).toISOString();
      await repo.insertEnrolment(instanceId, {
        id,
        label,
        secret: box.seal(secret, enrolmentCtx(instanceId, id)),
        createdAt: t.toISOString(),
        expiresAt,
      });
      const uri = otpauthUri(secret, ISSUER, label);
      return {
        enrolmentId: id,
        otpauthUri: uri,
        qrCode: await qrCodeDataUrl(uri),
        secret: totpSecretBase32(secret),
        expiresAt,
      };
    },

    /** Checks a code against a pending enrolment; wrong codes count towards a small limit. */
    async checkEnrolment(
      instanceId: string,
      enrolmentId: string,
      code: string,
    ): Promise<EnrolmentCheck> {
      const e = await repo.findEnrolment(instanceId, enrolmentId);
      if (!e) return { ok: false, reason: 'unknown' };
      const t = now();
      if (e.expiresAt <= t.toISOString()) return { ok: false, reason: 'expired' };
      if (e.attempts >= ENROLMENT_ATTEMPTS) return { ok: false, reason: 'too-many-attempts' };
      const secret = box.open(e.secret, enrolmentCtx(instanceId, enrolmentId));
      const m = matchTotp(secret, code, t, null);
      if (!m.ok) {
        await repo.countEnrolmentAttempt(instanceId, enrolmentId);
        return { ok: false, reason: 'invalid' };
      }
      return { ok: true, secret, step: m.step };
    },

    /** Makes a checked enrolment the user's factor and drops the pending row. */
    async completeEnrolment(
      instanceId: string,
      userId: string,
      enrolmentId: string,
      checked: { secret: Buffer; step: number },
      tx: Executor = db,
    ): Promise<void> {
      const sealed = box.seal(checked.secret, userCtx(instanceId, userId));
      await repo.upsertTotp(instanceId, userId, sealed, checked.step, now().toISOString(), tx);
      await repo.deleteEnrolment(instanceId, enrolmentId, tx);
    },

    async isEnrolled(instanceId: string, userId: string, tx: Executor = db): Promise<boolean> {
      return !!(await repo.findTotp(instanceId, userId, tx));
    },

    enrolledUserIds: (instanceId: string, tx: Executor = db) =>
      repo.enrolledUserIds(instanceId, tx),

    /** Checks a code and burns its time step, so the same code never works twice. */
    async verifyCode(instanceId: string, userId: string, code: string): Promise<TotpMatch> {
      const f = await repo.findTotp(instanceId, userId);
      if (!f) return { ok: false, reason: 'invalid' };
      const secret = box.open(f.secret, userCtx(instanceId, userId));
      const m = matchTotp(secret, code, now(), f.lastStep);
      if (!m.ok) return m;
      const claimed = await repo.claimStep(instanceId, userId, m.step);
      return claimed ? m : { ok: false, reason: 'replayed' };
    },

    /** Removes the factor and recovery codes (two-factor off, or re-enrolment at next sign-in). */
    async reset(instanceId: string, userId: string, tx: Executor = db): Promise<void> {
      await repo.deleteTotp(instanceId, userId, tx);
      await repo.replaceRecoveryCodes(instanceId, userId, [], now().toISOString(), tx);
    },

    /** New recovery codes, replacing the old ones; returned once, stored hashed. */
    async issueRecoveryCodes(
      instanceId: string,
      userId: string,
      tx: Executor = db,
    ): Promise<string[]> {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      await repo.replaceRecoveryCodes(
        instanceId,
        userId,
        codes.map(hashRecoveryCode),
        now().toISOString(),
        tx,
      );
      return codes;
    },

    /** Uses up one recovery code; true if it was valid and unused. */
    async useRecoveryCode(instanceId: string, userId: string, code: string): Promise<boolean> {
      return repo.useRecoveryCode(instanceId, userId, hashRecoveryCode(code), now().toISOString());
    },

    remainingRecoveryCodes: (instanceId: string, userId: string) =>
      repo.countUnusedRecoveryCodes(instanceId, userId),
  };
}
export type SecondFactorService = ReturnType<typeof createSecondFactorService>;
