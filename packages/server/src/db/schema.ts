import type { AuthCertTables } from '../auth-certs/auth-cert-tables.js';
import type { BatchTables } from '../batches/batch-tables.js';
import type { DeviceTables } from '../devices/device-tables.js';
import type { DeviceSessionTables } from '../device-sessions/device-session-tables.js';
import type { EnrolmentTables } from '../enrolment/enrolment-tables.js';
import type { EnrolmentTokenTables } from '../enrolment-tokens/enrolment-token-tables.js';
import type { FirmwareTables } from '../firmware/firmware-tables.js';
import type { FirmwareBlobTables } from '../firmware/firmware-blob-tables.js';
import type { AuditTables } from '../audit/audit-tables.js';
import type { AuthTables } from '../auth/auth-tables.js';
import type { HubTables } from '../hubs/hub-tables.js';
import type { DatabaseDirectTables } from '../database-direct/database-direct-tables.js';
import type { InstanceTables } from '../instances/instance-tables.js';
import type { JobTables } from '../jobs/job-tables.js';
import type { KeyTables } from '../keystore/keystore-tables.js';
import type { ManufacturingTables } from '../manufacturing/manufacturing-tables.js';
import type { OutboxTables } from '../outbox/outbox-tables.js';
import type { PkiTables } from '../pki/pki-tables.js';
import type { ProvisioningTables } from '../provisioning/provisioning-tables.js';
import type { PolicyTables } from '../policies/policy-tables.js';
import type { SetupTables } from '../setup/setup-tables.js';
import type { UserTables } from '../users/users-tables.js';

/**
 * The whole database as Kysely sees it, assembled from each domain's own table types. A domain
 * reads and writes only its own tables; others go through its service.
 */
export interface Database
  extends
    InstanceTables,
    KeyTables,
    PkiTables,
    OutboxTables,
    SetupTables,
    PolicyTables,
    BatchTables,
    DeviceTables,
    AuthCertTables,
    EnrolmentTokenTables,
    UserTables,
    AuthTables,
    AuditTables,
    EnrolmentTables,
    DeviceSessionTables,
    FirmwareTables,
    HubTables,
    JobTables,
    DatabaseDirectTables,
    ManufacturingTables,
    FirmwareBlobTables,
    ProvisioningTables {}
