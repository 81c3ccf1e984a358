import { openDatabase, type Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { createBatchRepo } from '../batches/batch-repo.js';
import { createBatchService } from '../batches/batch-service.js';
import { createDeviceRepo } from '../devices/device-repo.js';
import { createInstanceRepo } from '../instances/instance-repo.js';
import { createPolicyRepo } from '../policies/policy-repo.js';
import { createPolicyService } from '../policies/policy-service.js';
import type { PolicyInput } from '../policies/policy-types.js';
import { policyInputSchema } from '../policies/policy-types.js';
import { createTestDatabase, type TestDatabase } from './test-databases.js';
import type { DialectName } from '../db/database.js';

/** A migrated database with two instances and the policy and batch services over it. */
export async function openFleet(dialect: DialectName) {
  const tdb: TestDatabase = await createTestDatabase(dialect);
  const db: Db = await openDatabase(tdb.url);
  await migrateToLatest(db);
  for (const id of ['i1', 'i2']) {
    await createInstanceRepo(db.kysely).insert({
      id,
      name: id,
      createdAt: new Date().toISOString(),
      claimedAt: null,
    });
  }
  const policyRepo = createPolicyRepo(db.kysely);
  const batchService = createBatchService({
    db,
    batches: createBatchRepo(db.kysely),
    devices: createDeviceRepo(db.kysely),
    policies: policyRepo,
  });
  const policyService = createPolicyService({
    db,
    repo: policyRepo,
    refs: {
      hubExists: async () => false,
      databaseConnectionExists: async () => false,
      policyInUse: batchService.policyUser,
    },
  });
  return {
    db,
    policies: policyService,
    batches: batchService,
    async close() {
      await db.close();
      await tdb.drop();
    },
  };
}

/** A valid policy input, changed by the overrides. */
export function policyInput(overrides: Record<string, unknown> = {}): PolicyInput {
  return policyInputSchema.parse({
    name: 'Factory line A',
    connectionType: 'iot-hub',
    deviceCertificate: { lifetime: { value: 1, unit: 'years' } },
    issuingCertificate: { lifetime: { value: 5, unit: 'years' } },
    ...overrides,
  });
}

/** Random device IDs. */
export function deviceIds(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++)
    out.push(
      crypto
        .getRandomValues(new Uint8Array(32))
        .reduce((s, b) => s + b.toString(16).padStart(2, '0'), ''),
    );
  return out;
}
