import type { FastifyRequest } from 'fastify';
import type { AuditService } from '../audit/audit-service.js';
import { createAuthCertRepo } from '../auth-certs/auth-cert-repo.js';
import { createBatchRepo } from '../batches/batch-repo.js';
import type { Fleet } from '../batches/fleet.js';
import type { Db } from '../db/database.js';
import { createDeviceSessionRepo } from '../device-sessions/device-session-repo.js';
import { createDeviceSessionService } from '../device-sessions/device-session-service.js';
import type { DeviceEvents } from '../devices/device-events.js';
import { createDeviceLifecycleRepo } from '../devices/device-lifecycle-repo.js';
import { createDeviceRepo } from '../devices/device-repo.js';
import { createDeviceRevocationService } from '../devices/device-revocation-service.js';
import { createDeviceService } from '../devices/device-service.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';
import { createPolicyRepo } from '../policies/policy-repo.js';
import type { Pki } from '../pki/pki-module.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { createChallengeRepo } from './challenge-repo.js';
import { createChallengeService } from './challenge-service.js';
import { createCheckInRecorder } from './check-in-recorder.js';
import { createCheckInService } from './check-in-service.js';
import { createDeviceAudit } from './device-audit.js';
import { createDeviceAuth } from './device-auth.js';
import { createDeviceConnections } from './device-connections.js';
import { ownHostNames } from './device-http.js';
import { createDeviceIssuance } from './device-issuance.js';
import { createDeviceRateLimits, type DeviceRateLimitsDeps } from './device-rate-limits.js';
import { createEnrolmentHooks } from './enrolment-hooks.js';
import { createEnrolmentService } from './enrolment-service.js';
import { factoryCertificateMethod } from './factory-certificate-method.js';
import { createLifecycleJobs } from './lifecycle-jobs.js';
import { preRegisteredMethod } from './pre-registered-method.js';
import { createRenewalService } from './renewal-service.js';
import { createTimeService } from './time-service.js';
import { createTimeSignerRepo } from './time-signer-repo.js';
import type { JobLease } from '../jobs/job-leases.js';

export interface DeviceApiDeps {
  db: Db;
  box: SecretBox;
  keystore: KeyStore;
  audit: AuditService;
  pki: Pki;
  fleet: Fleet;
  outbox: OutboxRepo;
  events: DeviceEvents;
  /** The names this server answers to (proofs must name one of them). */
  publicHostname: string;
  tlsSubjectAltNames: string;
  now: () => Date;
  log?: { warn(obj: object, msg: string): void };
  /** Runs the lifecycle jobs on one replica of several (jobs/job-leases.ts). */
  lease?: JobLease;
  /** How often kept-alive device connections are re-checked against the database (30 s). */
  connectionReconcileMs?: number;
  /** Rate limits of the device port (config.ts); off when absent. */
  rateLimits?: Pick<DeviceRateLimitsDeps, 'perAddress' | 'perDevice'>;
}

/**
 * The enrolment and device-lifecycle domain, wired once per server: the device API's
 * services (challenge, enrolment methods, issuance, renewal, check-in, sessions, time), the
 * management side (device list, detail, revocation), and what runs beside them (lifecycle
 * jobs, batched check-in writes, the connection tracker that revocation closes).
 */
export function createDeviceApi(deps: DeviceApiDeps) {
  const { db, now } = deps;
  const k = db.kysely;
  const devices = createDeviceRepo(k);
  const hooks = createEnrolmentHooks();
  // The check-in reads its device's waiting update (the firmware domain's, through the hooks)
  // in the statement that reads the device.
  const alongside = { alongside: hooks.waitingUpdateId };
  const lifecycle = createDeviceLifecycleRepo(k, alongside);
  const batches = createBatchRepo(k);
  const policies = createPolicyRepo(k);
  const authCerts = createAuthCertRepo(k);
  const audit = createDeviceAudit(deps.audit, now);
  const sessions = createDeviceSessionService({
    repo: createDeviceSessionRepo(k, alongside),
    now,
  });
  const connections = createDeviceConnections({
    states: (instanceId, ids) => lifecycle.states(instanceId, ids),
    log: deps.log,
    reconcileMs: deps.connectionReconcileMs,
  });
  const challenges = createChallengeService({ repo: createChallengeRepo(k), box: deps.box, now });
  const auth = createDeviceAuth({
    caRepo: deps.pki.caRepo,
    lifecycle,
    sessions,
    connections,
    audit,
    now,
  });
  const issuance = createDeviceIssuance({
    db,
    pki: deps.pki,
    caRepo: deps.pki.caRepo,
    keystore: deps.keystore,
    devices,
    lifecycle,
    events: deps.events,
    issuingCaFor: async (instanceId, policy) => {
      const id = await deps.fleet.policies.issuingCaFor(instanceId, policy);
      return id;
    },
    inTransaction: (tx, issued) => hooks.certificateIssued(tx, issued),
    now,
  });
  const methods = [
    factoryCertificateMethod({
      authCerts: (instanceId) => authCerts.list(instanceId),
      checkToken: (instanceId, value, batchId) =>
        deps.fleet.enrolmentTokens.check(instanceId, value, batchId),
      batchName: async (instanceId, batchId) => (await batches.find(instanceId, batchId))?.name,
      now,
    }),
    preRegisteredMethod(),
  ];
  const common = { batches, policies, devices, deviceCerts: deps.pki.deviceCerts, now };
  const enrolment = createEnrolmentService({
    ...common,
    methods,
    issuance,
    audit,
    hooks,
    lifecycle,
  });
  const renewal = createRenewalService({ ...common, issuance, audit, auditLog: deps.audit });
  const recorder = createCheckInRecorder({
    lifecycle,
    transaction: (fn) => k.transaction().execute(fn),
    now,
    log: deps.log,
  });
  const checkIn = createCheckInService({ audit, hooks, recorder, sessions, now });
  const time = createTimeService({
    repo: createTimeSignerRepo(k),
    keystore: deps.keystore,
    caRepo: deps.pki.caRepo,
    now,
  });
  const off = { perMinute: 0, burst: 0 };
  const limits = createDeviceRateLimits(deps.rateLimits ?? { perAddress: off, perDevice: off });
  const revocation = createDeviceRevocationService({
    db,
    devices,
    lifecycle,
    deviceCerts: deps.pki.deviceCerts,
    sessions,
    outbox: deps.outbox,
    policyOfBatch: async (instanceId, batchId) => {
      const b = await batches.find(instanceId, batchId);
      return b ? policies.find(instanceId, b.policyId) : undefined;
    },
    audit: deps.audit,
    events: deps.events,
    now,
  });
  const deviceService = createDeviceService({
    devices,
    batches,
    certificates: (instanceId, deviceId) =>
      deps.pki.deviceCerts.list(instanceId, { deviceId, limit: 100, offset: 0 }),
    hubSync: (instanceId, deviceId) => deps.outbox.forSubject(instanceId, deviceId),
    revocation,
    now,
  });
  const jobs = createLifecycleJobs({
    db,
    lifecycle,
    renewal,
    audit: deps.audit,
    challenges,
    sessions,
    now,
    log: deps.log,
    lease: deps.lease,
  });
  // A revoked device's open connections close at once: on this process, and through the bus on
  // every replica; the reconcile closes what a lost event left open.
  deps.events.on((e) => {
    if (e.type === 'revoked') connections.close(e.instanceId, e.deviceId);
    if (e.type === 'certificate-issued') auth.noteIssuer(e.instanceId, e.issuerId);
  });

  return {
    auth,
    audit,
    challenges,
    enrolment,
    renewal,
    checkIn,
    time,
    sessions,
    connections,
    recorder,
    lifecycle,
    devices,
    hooks,
    jobs,
    limits,
    /** Operators' side: list, detail, dashboard figures, revocation. */
    deviceService,
    ownHosts: ownHostNames(deps.publicHostname, deps.tlsSubjectAltNames),
    /** The instance root and its issuing CAs still valid (EST cacerts). */
    async caCertificates(instanceId: string): Promise<Buffer[]> {
      const t = now().getTime();
      const root = await deps.pki.caRepo.current(instanceId, 'root');
      const issuing = (await deps.pki.caRepo.list(instanceId, 'issuing')).filter(
        (c) => Date.parse(c.notAfter) > t,
      );
      return [...(root ? [root.der] : []), ...issuing.map((c) => c.der)];
    },
    /** Every key type some policy of the instance accepts (EST csrattrs); P-256 when none. */
    async acceptedKeyTypes(instanceId: string): Promise<string[]> {
      const types = new Set(
        (await policies.list(instanceId)).flatMap((p) => p.deviceCertificate.keyTypes),
      );
      return types.size ? [...types] : ['P-256'];
    },
    /** Starts what runs beside the device port. */
    start() {
      jobs.start();
      recorder.start();
      connections.start();
      limits.start();
    },
    async stop() {
      limits.stop();
      connections.stop();
      await jobs.stop();
      await recorder.stop();
    },
  };
}
export type DeviceApiServices = ReturnType<typeof createDeviceApi>;

/** What the device routes get: the services and how to find a request's instance. */
export type DeviceApi = DeviceApiServices & { instanceOf(req: FastifyRequest): string };
