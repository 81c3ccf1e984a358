import { randomUUID } from 'node:crypto';
import {
  databaseBlockSchema,
  ecdsaDerToRaw,
  toBase64url,
  type DatabaseBlock,
  type DatabaseTokenResponse,
} from '@trustlink/protocol';
import type { Device } from '../devices/device-repo.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import { addDuration } from '../lib/duration.js';
import { NotFoundError } from '../lib/errors.js';
import type { Policy } from '../policies/policy-types.js';
import { compactJwt, jwtSigningInput } from './database-direct-fns.js';
import type { DatabaseDirectRepo, StoredConnection } from './database-direct-repo.js';

export interface DatabaseTokenServiceDeps {
  repo: Pick<DatabaseDirectRepo, 'find'>;
  keystore: Pick<KeyStore, 'sign'>;
  /** The policy a device's batch follows. */
  policyOf(instanceId: string, device: Device): Promise<Policy | undefined>;
  /** DER of the instance root: the device port's TLS certificate chains to it. */
  rootDer(instanceId: string): Promise<Buffer>;
  /** Where devices send their records: the device API's base URL. */
  deviceBaseUrl(): string;
  now?: () => Date;
}

/** Path of the data endpoint; a collection name follows. */
export const DATA_PATH = '/device/v1/data';

/**
 * Issues the short-lived JWT of a database-direct device and the `database` block that says
 * where it writes. For PostgreSQL and MariaDB the device writes through the platform's data
 * endpoint, so the block's URL is that endpoint and its CA the instance root.
 */
export function createDatabaseTokenService(deps: DatabaseTokenServiceDeps) {
  const now = deps.now ?? (() => new Date());

  async function block(instanceId: string, c: StoredConnection): Promise<DatabaseBlock> {
    return databaseBlockSchema.parse({
      connectionId: c.id,
      type: c.type,
      url: `${deps.deviceBaseUrl()}${DATA_PATH}`,
      database: c.database,
      ...(c.dataSource ? { dataSource: c.dataSource } : {}),
      caCertificates: [toBase64url(await deps.rootDer(instanceId))],
    });
  }

  /** The connection of a database-direct policy, or undefined for any other policy. */
  async function connectionOf(instanceId: string, policy: Policy | undefined) {
    if (policy?.connectionType !== 'database-direct' || !policy.databaseConnectionId)
      return undefined;
    const c = await deps.repo.find(instanceId, policy.databaseConnectionId);
    return c && { connection: c, policy };
  }

  return {
    /** The enrolment answer's `database` block for a device of this policy, if any. */
    async blockFor(instanceId: string, policy: Policy): Promise<DatabaseBlock | undefined> {
      const found = await connectionOf(instanceId, policy);
      return found && block(instanceId, found.connection);
    },
    /** A token for an authenticated device; 404 when its policy is not database direct. */
    async issue(instanceId: string, device: Device): Promise<DatabaseTokenResponse> {
      const found = await connectionOf(instanceId, await deps.policyOf(instanceId, device));
      if (!found) throw new NotFoundError("the device's policy has no database direct connection");
      const { connection: c, policy } = found;
      const t = now();
      const iat = Math.floor(t.getTime() / 1000);
      const exp = Math.floor(addDuration(t, policy.jwtLifetime!).getTime() / 1000);
      const input = jwtSigningInput(c.keyId, {
        iss: instanceId,
        sub: device.id,
        aud: c.id,
        iat,
        nbf: iat,
        exp,
        jti: randomUUID(),
      });
      const der = await deps.keystore.sign(instanceId, c.keyId, Buffer.from(input), 'ecdsa-sha256');
      return {
        token: compactJwt(input, ecdsaDerToRaw(der, 'P-256')),
        expiresAt: new Date(exp * 1000).toISOString(),
        connection: await block(instanceId, c),
      };
    },
  };
}
export type DatabaseTokenService = ReturnType<typeof createDatabaseTokenService>;
