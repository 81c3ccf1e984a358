import type { AuditService } from '../audit/audit-service.js';
import { createAuthCertRepo } from '../auth-certs/auth-cert-repo.js';
import { createAuthCertService } from '../auth-certs/auth-cert-service.js';
import type { Db } from '../db/database.js';
import { createDeviceRepo } from '../devices/device-repo.js';
import { createEnrolmentTokenRepo } from '../enrolment-tokens/enrolment-token-repo.js';
import { createEnrolmentTokenService } from '../enrolment-tokens/enrolment-token-service.js';
import { createPolicyRepo } from '../policies/policy-repo.js';
import { createPolicyService, type PolicyReferences } from '../policies/policy-service.js';
import type { IssuingCaService } from '../pki/issuing-ca-service.js';
import { createBatchRepo } from './batch-repo.js';
import { createBatchService } from './batch-service.js';

/**
 * Policies, batches, device registration, auth certs and tokens, wired together: these
 * domains refer to one another (a batch has a policy; auth certs and tokens belong to a batch).
 */
export function createFleet(deps: {
  db: Db;
  audit: AuditService;
  /** Each policy gets its issuing CA from here. */
  issuingCas: Pick<IssuingCaService, 'create'>;
  now?: () => Date;
  /** Hubs and database connections answer for themselves once those domains exist. */
  refs?: Partial<Pick<PolicyReferences, 'hubExists' | 'databaseConnectionExists'>>;
}) {
  const { db, audit, now } = deps;
  const policyRepo = createPolicyRepo(db.kysely);
  const batches = createBatchService({
    db,
    batches: createBatchRepo(db.kysely),
    devices: createDeviceRepo(db.kysely),
    policies: policyRepo,
    audit,
    now,
  });
  const policies = createPolicyService({
    db,
    repo: policyRepo,
    audit,
    issuingCas: deps.issuingCas,
    now,
    refs: {
      hubExists: deps.refs?.hubExists ?? (async () => false),
      databaseConnectionExists: deps.refs?.databaseConnectionExists ?? (async () => false),
      policyInUse: batches.policyUser,
    },
  });
  const batchExists = async (instanceId: string, batchId: string) =>
    (await batches.find(instanceId, batchId)) !== undefined;
  const authCerts = createAuthCertService({
    db,
    audit,
    repo: createAuthCertRepo(db.kysely),
    batchExists,
    now,
  });
  const enrolmentTokens = createEnrolmentTokenService({
    db,
    audit,
    repo: createEnrolmentTokenRepo(db.kysely),
    batchExists,
    now,
  });
  return { policies, batches, authCerts, enrolmentTokens };
}
export type Fleet = ReturnType<typeof createFleet>;
