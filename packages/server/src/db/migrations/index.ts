import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import * as foundation from './20261125_2130_foundation.js';
import * as policiesBatchesDevices from './20261125_2200_policies_batches_devices.js';
import * as authCertsTokens from './20261125_2230_auth_certs_tokens.js';
import * as usersAuthAudit from './20261126_0900_users_auth_audit.js';
import * as pki from './20261126_1000_pki.js';
import * as enrolment from './20261127_0900_enrolment.js';
import * as firmware from './20261127_0900_firmware.js';
import * as hubs from './20261127_0900_hubs.js';
import * as fleetCounts from './20261128_0100_fleet_counts.js';
import * as hubCloudObjects from './20261128_0100_hub_cloud_objects.js';
import * as databaseDirect from './20261128_0900_database_direct.js';
import * as manufacturingCredentials from './20261128_0900_manufacturing_credentials.js';
import * as firmwareBlobs from './20261129_0900_firmware_blobs.js';
import * as provisioning from './20261130_0900_provisioning.js';

export interface PortableMigration {
  up(db: Kysely<unknown>, dialect: DialectName): Promise<void>;
  down(db: Kysely<unknown>, dialect: DialectName): Promise<void>;
}

/**
 * Every migration, in order. Names are timestamps so branches merge in a stable order; a new
 * migration is added at the end and never edited once landed.
 */
export const MIGRATIONS: Record<string, PortableMigration> = {
  '20261125_2130_foundation': foundation,
  '20261125_2200_policies_batches_devices': policiesBatchesDevices,
  '20261125_2230_auth_certs_tokens': authCertsTokens,
  '20261126_0900_users_auth_audit': usersAuthAudit,
  '20261126_1000_pki': pki,
  '20261127_0900_enrolment': enrolment,
  '20261127_0900_firmware': firmware,
  '20261127_0900_hubs': hubs,
  '20261128_0100_fleet_counts': fleetCounts,
  '20261128_0100_hub_cloud_objects': hubCloudObjects,
  '20261128_0900_database_direct': databaseDirect,
  '20261128_0900_manufacturing_credentials': manufacturingCredentials,
  '20261129_0900_firmware_blobs': firmwareBlobs,
  '20261130_0900_provisioning': provisioning,
};
