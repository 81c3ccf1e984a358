import type { AuditService } from '../audit/audit-service.js';
import type { AuditActor } from '../audit/audit-types.js';
import type { SecondFactorService, TotpEnrolment } from '../auth/second-factor-service.js';
import type { Db } from '../db/database.js';
import type { InstanceRepo } from '../instances/instance-repo.js';
import { BadRequestError, ConflictError, ForbiddenError } from '../lib/errors.js';
import { checkPassword } from '../users/users-fns.js';
import type { UserService } from '../users/users-service.js';
import type { User } from '../users/users-types.js';
import type { SetupService } from './setup-service.js';

export interface ClaimInput {
  token: string;
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  password: string;
  enrolmentId: string;
  code: string;
}

const INVALID_LINK =
  'this setup link is invalid, used or expired; run `trustlink setup link` on the server for a new one';

/**
 * First run: the holder of the one-time setup link creates the first administrator, with an
 * authenticator app enrolled, and so claims the instance. The link is burnt, the instance marked
 * claimed and the administrator created in one transaction: either all happen or none.
 */
export function createSetupClaimService(deps: {
  db: Db;
  setup: SetupService;
  users: UserService;
  secondFactor: SecondFactorService;
  instances: InstanceRepo;
  audit: AuditService;
  now: () => Date;
}) {
  const { db, setup, users, secondFactor, instances, audit, now } = deps;

  const assertUnclaimed = async (instanceId: string) => {
    const inst = await instances.find(instanceId);
    if (inst?.claimedAt) {
      throw new ConflictError('this instance is already set up; sign in instead', 'already-set-up');
    }
  };
  const deny = async (instanceId: string, actor: AuditActor, address: string, reason: string) => {
    await audit.record({
      instanceId,
      actor,
      action: 'setup.claim',
      result: 'denied',
      sourceAddress: address,
      details: { reason },
    });
  };

  return {
    /** Checks the link without using it and starts the administrator's TOTP enrolment. */
    async check(
      instanceId: string,
      token: string,
      label: string,
    ): Promise<{ expiresAt: string; totp: TotpEnrolment }> {
      await assertUnclaimed(instanceId);
      if (!(await setup.check(instanceId, token))) {
        throw new ForbiddenError(INVALID_LINK, 'setup-link-invalid');
      }
      const totp = await secondFactor.startEnrolment(instanceId, label);
      return { expiresAt: totp.expiresAt, totp };
    },

    async claim(
      instanceId: string,
      input: ClaimInput,
      sourceAddress: string,
    ): Promise<{ user: User; recoveryCodes: string[] }> {
      const actor: AuditActor = { type: 'user', id: null, name: input.username };
      await assertUnclaimed(instanceId);
      if (!(await setup.check(instanceId, input.token))) {
        await deny(instanceId, actor, sourceAddress, 'invalid, used or expired setup link');
        throw new ForbiddenError(INVALID_LINK, 'setup-link-invalid');
      }
      const pw = checkPassword(input.password, input.username);
      if (!pw.ok) throw new BadRequestError(pw.reason, undefined, 'weak-password');
      const checked = await secondFactor.checkEnrolment(instanceId, input.enrolmentId, input.code);
      if (!checked.ok) {
        await deny(instanceId, actor, sourceAddress, `authenticator code ${checked.reason}`);
        throw new BadRequestError(
          checked.reason === 'invalid'
            ? 'the code does not match the authenticator secret; check the app and its clock, then try the next code'
            : `the authenticator enrolment is ${checked.reason}; open the setup link again`,
          undefined,
          'invalid-second-factor',
        );
      }
      return db.kysely.transaction().execute(async (tx) => {
        const t = now().toISOString();
        if (!(await setup.consume(instanceId, input.token, tx))) {
          throw new ForbiddenError(INVALID_LINK, 'setup-link-invalid');
        }
        if (
          !(await instances.markClaimed(instanceId, t, tx)) ||
          (await users.count(instanceId, tx)) > 0
        ) {
          throw new ConflictError(
            'this instance is already set up; sign in instead',
            'already-set-up',
          );
        }
        const ctx = { actor, sourceAddress };
        const user = await users.create(
          instanceId,
          {
            username: input.username,
            email: input.email,
            firstName: input.firstName,
            lastName: input.lastName,
            role: 'administrator',
            password: input.password,
            twoFactorEnabled: true,
          },
          ctx,
          tx,
        );
        await secondFactor.completeEnrolment(instanceId, user.id, input.enrolmentId, checked, tx);
        const recoveryCodes = await secondFactor.issueRecoveryCodes(instanceId, user.id, tx);
        await audit.record(
          {
            instanceId,
            actor: { ...actor, id: user.id },
            action: 'setup.claim',
            target: { type: 'instance', id: instanceId },
            result: 'ok',
            sourceAddress,
          },
          tx,
        );
        return { user: { ...user, twoFactorEnrolled: true }, recoveryCodes };
      });
    },
  };
}
export type SetupClaimService = ReturnType<typeof createSetupClaimService>;
