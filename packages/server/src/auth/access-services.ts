import type { AuditService } from '../audit/audit-service.js';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { InstanceRepo } from '../instances/instance-repo.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { createSetupClaimService } from '../setup/setup-claim-service.js';
import type { SetupService } from '../setup/setup-service.js';
import { createUserService } from '../users/users-service.js';
import { createApiTokenService } from './api-token-service.js';
import { createPasswordHasher } from './password-hasher.js';
import { createSecondFactorService } from './second-factor-service.js';
import { createSessionService } from './session-service.js';
import { createSignInService } from './sign-in-service.js';
import { createThrottleService } from './throttle-service.js';

export interface AccessServicesDeps {
  db: Db;
  box: SecretBox;
  audit: AuditService;
  config: Pick<
    Config,
    | 'sessionIdleMinutes'
    | 'sessionMaxHours'
    | 'apiTokenMaxDays'
    | 'signInAccountFailures'
    | 'signInAddressFailures'
    | 'signInMaxDelaySeconds'
  >;
  setup: SetupService;
  instances: InstanceRepo;
  now: () => Date;
}

/** Wires users, sign-in, sessions, API tokens and first-run setup from their dependencies. */
export function createAccessServices(deps: AccessServicesDeps) {
  const { db, box, audit, config, now } = deps;
  const passwords = createPasswordHasher();
  const secondFactor = createSecondFactorService({ db: db.kysely, box, now });
  const sessions = createSessionService({
    db: db.kysely,
    now,
    policy: { idleMinutes: config.sessionIdleMinutes, maxHours: config.sessionMaxHours },
  });
  const users = createUserService({
    db,
    audit,
    passwords,
    secondFactor,
    sessions,
    instances: deps.instances,
    now,
  });
  const apiTokens = createApiTokenService({ db, audit, now, maxDays: config.apiTokenMaxDays });
  const policy = (freeFailures: number) => ({
    freeFailures,
    baseDelaySeconds: 1,
    maxDelaySeconds: config.signInMaxDelaySeconds,
    // An hour of quiet forgives, but never before the longest wait has run out.
    resetAfterSeconds: Math.max(3600, 2 * config.signInMaxDelaySeconds),
  });
  const throttle = createThrottleService({
    db,
    now,
    policies: {
      account: policy(config.signInAccountFailures),
      address: policy(config.signInAddressFailures),
    },
  });
  const signIn = createSignInService({
    db,
    users,
    passwords,
    secondFactor,
    sessions,
    throttle,
    audit,
    now,
  });
  const setupClaim = createSetupClaimService({
    db,
    setup: deps.setup,
    users,
    secondFactor,
    instances: deps.instances,
    audit,
    now,
  });
  return { passwords, secondFactor, sessions, users, apiTokens, throttle, signIn, setupClaim };
}
export type AccessServices = ReturnType<typeof createAccessServices>;
