import { randomUUID } from 'node:crypto';
import type { AuditContext } from '../audit/audit-types.js';
import type { DialectName } from '../db/database.js';
import { createInstanceRepo } from '../instances/instance-repo.js';
import type { PolicyInput } from '../policies/policy-types.js';
import { policyInputSchema } from '../policies/policy-types.js';
import { startTestServer } from './test-server.js';

/** Who the service tests act as in the audit log. */
export const testCtx: AuditContext = {
  actor: { type: 'system', name: 'test' },
  sourceAddress: '127.0.0.1',
};

/**
 * The fleet services of a real server (database, audit log) with two instances: the server's
 * own, and a second one to prove that neither sees the other's rows.
 */
export async function openFleet(dialect: DialectName) {
  const server = await startTestServer(dialect);
  const i1 = server.runtime.instance.id;
  const i2 = randomUUID();
  await createInstanceRepo(server.runtime.db.kysely).insert({
    id: i2,
    name: `second-${i2}`,
    createdAt: new Date().toISOString(),
    claimedAt: null,
  });
  await server.runtime.audit.ensureChain(i2);
  // Policies get an issuing CA under their instance's root.
  await server.runtime.pki.createRoot(i2, `second-${i2}`);
  return {
    server,
    db: server.runtime.db,
    i1,
    i2,
    ...server.runtime.fleet,
    close: () => server.close(),
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
