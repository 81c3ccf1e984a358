import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Device } from '../devices/device-repo.js';
import type { DeviceAudit, DeviceRequestContext } from '../enrolment/device-audit.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import { AppError, BadRequestError, ServiceUnavailableError } from '../lib/errors.js';
import type { Policy } from '../policies/policy-types.js';
import {
  COLLECTION_PATTERN,
  checkDocument,
  parseJwt,
  verifyDeviceJwt,
} from './database-direct-fns.js';
import type { DatabaseDirectRepo, StoredConnection } from './database-direct-repo.js';
import type { ConnectionSecrets } from './database-direct-types.js';
import type { DeviceDataRepo } from './device-data-repo.js';
import type { TargetResolver } from './target-resolver.js';

/** Largest document a device may write (serialised JSON). */
export const DOCUMENT_MAX_BYTES = 32 * 1024;
/** Clock difference allowed between the platform and itself across processes. */
const LEEWAY_SECONDS = 30;
const ACTION = 'device.database-write';

export interface DeviceDataServiceDeps {
  repo: Pick<DatabaseDirectRepo, 'find'>;
  keystore: Pick<KeyStore, 'publicKey'>;
  secretsOf(instanceId: string, c: StoredConnection): ConnectionSecrets;
  targets: TargetResolver;
  data: DeviceDataRepo;
  devices: { find(instanceId: string, id: string): Promise<Device | undefined> };
  policyOf(instanceId: string, device: Device): Promise<Policy | undefined>;
  audit: DeviceAudit;
  log: { warn(o: object, msg: string): void };
  now?: () => Date;
}

/**
 * The data endpoint: a device (or an application on it) presents its database JWT and a JSON
 * document; the platform checks the token (signature with the connection's key, audience,
 * issuer, expiry, the device still enrolled and still on that connection) and writes the
 * document into the connection's database. Refusals are audited; the device hears only
 * 401/403.
 */
export function createDeviceDataService(deps: DeviceDataServiceDeps) {
  const now = deps.now ?? (() => new Date());
  // A key id always names the same public key (a deleted connection's key is never looked up:
  // the connection is gone first), so loaded keys are kept; loading one costs about as much
  // as a verification.
  const keys = new Map<string, KeyObject>();
  async function publicKeyOf(instanceId: string, keyId: string): Promise<KeyObject> {
    const hit = keys.get(`${instanceId}/${keyId}`);
    if (hit) return hit;
    const rec = await deps.keystore.publicKey(instanceId, keyId);
    const k = createPublicKey({ key: rec.publicKeyDer, format: 'der', type: 'spki' });
    if (keys.size >= 1024) keys.clear();
    keys.set(`${instanceId}/${keyId}`, k);
    return k;
  }

  async function authorise(ctx: DeviceRequestContext, authorization: string | undefined) {
    const refuse = (reason: string, kind: 'unauthorized' | 'revoked' = 'unauthorized') =>
      deps.audit.refuse(ctx, ACTION, kind, reason);
    const m = /^Bearer ([A-Za-z0-9_.-]{1,8192})$/.exec(authorization ?? '');
    if (!m) throw await refuse('no bearer JWT');
    const parsed = parseJwt(m[1]!);
    if (!parsed.ok) throw await refuse(parsed.reason);
    const aud = parsed.jwt.claims.aud;
    // The audience picks the key the signature must verify with; a token naming a connection
    // it was not signed for fails there.
    const c =
      typeof aud === 'string' && aud.length <= 64
        ? await deps.repo.find(ctx.instanceId, aud)
        : undefined;
    if (!c) throw await refuse('aud names no database direct connection');
    const v = verifyDeviceJwt(parsed.jwt, {
      publicKey: await publicKeyOf(ctx.instanceId, c.keyId),
      kid: c.keyId,
      aud: c.id,
      iss: ctx.instanceId,
      now: now(),
      leewaySeconds: LEEWAY_SECONDS,
    });
    if (!v.ok) throw await refuse(`JWT ${v.reason}`);
    ctx.deviceId = v.claims.sub;
    const device = await deps.devices.find(ctx.instanceId, v.claims.sub);
    if (!device) throw await refuse('device no longer exists');
    if (device.state === 'revoked') throw await refuse('device is revoked', 'revoked');
    if (device.state !== 'enrolled' && device.state !== 'renewed')
      throw await refuse(`device is ${device.state}`);
    const policy = await deps.policyOf(ctx.instanceId, device);
    if (policy?.databaseConnectionId !== c.id)
      throw await refuse("the token's connection is not the device's connection now");
    return { device, connection: c };
  }

  return {
    async write(
      ctx: DeviceRequestContext,
      authorization: string | undefined,
      collection: string,
      document: unknown,
    ): Promise<{ collection: string; deviceId: string; receivedAt: string }> {
      const { device, connection: c } = await authorise(ctx, authorization);
      if (!COLLECTION_PATTERN.test(collection))
        throw new BadRequestError(
          'the collection name must be 1-63 lower-case letters, digits or underscores, starting with a letter',
          undefined,
          'validation-failed',
        );
      const doc = checkDocument(document, DOCUMENT_MAX_BYTES);
      if (!doc.ok) throw new BadRequestError(doc.reason, undefined, 'validation-failed');
      const receivedAt = now();
      try {
        await deps.data.insert(
          `${ctx.instanceId}/${c.id}`,
          c.updatedAt,
          async () => {
            const s = deps.secretsOf(ctx.instanceId, c);
            const t = await deps.targets.resolve({ ...c, username: s.username });
            return { ...c, ...t, username: s.username ?? '', password: s.password ?? '' };
          },
          { collection, deviceId: device.id, receivedAt, json: doc.json },
        );
      } catch (err) {
        if (err instanceof AppError) throw err;
        // The database's own message may name its internals; the log keeps it.
        deps.log.warn({ err, connection: c.id, collection }, 'database direct: write failed');
        throw new ServiceUnavailableError(
          `the ${c.type} database of connection "${c.name}" did not take the record; try again later`,
          undefined,
          err,
        );
      }
      return { collection, deviceId: device.id, receivedAt: receivedAt.toISOString() };
    },
  };
}
export type DeviceDataService = ReturnType<typeof createDeviceDataService>;
