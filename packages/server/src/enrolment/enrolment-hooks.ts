import type { DatabaseBlock, HubBlock, StatusResponse } from '@trustlink/protocol';
import type { Executor } from '../db/database.js';
import type { Device } from '../devices/device-repo.js';
import type { CertificateIssued } from './device-issuance.js';
import type { Policy } from '../policies/policy-types.js';

/** Where a device connects for its data; the hub domains answer (nothing until they exist). */
export type HubConnectionResolver = (
  instanceId: string,
  policy: Policy,
  deviceId: string,
) => Promise<HubBlock | undefined>;

/** The database-direct connection of a policy's devices; the database-direct domain answers. */
export type DatabaseConnectionResolver = (
  instanceId: string,
  policy: Policy,
) => Promise<DatabaseBlock | undefined>;

/** The update waiting for a device, if any; the firmware domain answers. */
export type UpdateCheck = (
  instanceId: string,
  device: Device,
) => Promise<StatusResponse['update'] | undefined>;

/** Adds other domains' outbox intents to the transaction that issued a device certificate. */
export type IssuedInTransaction = (tx: Executor, issued: CertificateIssued) => Promise<void>;

/**
 * What other domains plug into enrolment and check-in without enrolment knowing them: the
 * hub block of the enrolment answer, and the update a check-in announces. Each has one
 * provider; registering a second is a wiring mistake and fails at start.
 */
export function createEnrolmentHooks() {
  let hub: HubConnectionResolver | undefined;
  let update: UpdateCheck | undefined;
  let issued: IssuedInTransaction | undefined;
  let database: DatabaseConnectionResolver | undefined;
  return {
    setCertificateIssued(fn: IssuedInTransaction) {
      if (issued) throw new Error('a certificate-issued hook is already registered');
      issued = fn;
    },
    certificateIssued: (tx: Executor, e: CertificateIssued) =>
      issued ? issued(tx, e) : Promise.resolve(),
    setHubConnection(fn: HubConnectionResolver) {
      if (hub) throw new Error('a hub connection resolver is already registered');
      hub = fn;
    },
    setDatabaseConnection(fn: DatabaseConnectionResolver) {
      if (database) throw new Error('a database connection resolver is already registered');
      database = fn;
    },
    setUpdateCheck(fn: UpdateCheck) {
      if (update) throw new Error('an update check is already registered');
      update = fn;
    },
    hubConnection: (instanceId: string, policy: Policy, deviceId: string) =>
      hub ? hub(instanceId, policy, deviceId) : Promise.resolve(undefined),
    databaseConnection: (instanceId: string, policy: Policy) =>
      database ? database(instanceId, policy) : Promise.resolve(undefined),
    pendingUpdate: (instanceId: string, device: Device) =>
      update ? update(instanceId, device) : Promise.resolve(undefined),
  };
}
export type EnrolmentHooks = ReturnType<typeof createEnrolmentHooks>;
