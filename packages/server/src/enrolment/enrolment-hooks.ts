import type { DatabaseBlock, HubBlock, StatusResponse } from '@trustlink/protocol';
import type { RawBuilder } from 'kysely';
import type { Executor } from '../db/database.js';
import type { DeviceColumnRefs } from '../devices/device-lifecycle-repo.js';
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

/**
 * The update waiting for a device, if any; the firmware domain answers. It is read in the
 * check-in's own statement (the device's state and its waiting update in one read): the
 * firmware domain gives the subquery, and what the device is told of the update it finds.
 */
export interface UpdateCheck {
  /** A scalar subquery: the waiting update's id, or null, for the device whose columns are named. */
  waitingUpdateId(device: DeviceColumnRefs): RawBuilder<string | null>;
  /** The check-in's pointer to that update. */
  pointer(updateId: string): NonNullable<StatusResponse['update']>;
}

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
    /** Registered at start, before the device port serves: the check-in reads build with it. */
    setUpdateCheck(check: UpdateCheck) {
      if (update) throw new Error('an update check is already registered');
      update = check;
    },
    hubConnection: (instanceId: string, policy: Policy, deviceId: string) =>
      hub ? hub(instanceId, policy, deviceId) : Promise.resolve(undefined),
    databaseConnection: (instanceId: string, policy: Policy) =>
      database ? database(instanceId, policy) : Promise.resolve(undefined),
    /** The subquery the check-in's read selects (undefined: no firmware domain, no update). */
    waitingUpdateId: (device: DeviceColumnRefs) => update?.waitingUpdateId(device),
    /** What a check-in tells the device of the update its read found waiting. */
    updatePointer: (updateId: string | null | undefined) =>
      updateId && update ? update.pointer(updateId) : undefined,
  };
}
export type EnrolmentHooks = ReturnType<typeof createEnrolmentHooks>;
