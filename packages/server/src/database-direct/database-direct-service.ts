import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import { recordChange } from '../audit/record-change.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/db-errors.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import { BadRequestError, ConflictError, NotFoundError } from '../lib/errors.js';
import { toPem } from '../pki/certificate-builder.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { publicJwk, type Jwk } from './database-direct-fns.js';
import type { DatabaseDirectRepo, StoredConnection } from './database-direct-repo.js';
import {
  OBSCURED,
  SECRET_FIELDS,
  type Connection,
  type ConnectionInput,
  type ConnectionSecrets,
} from './database-direct-types.js';
import type { TargetResolver } from './target-resolver.js';

export interface DatabaseDirectServiceDeps {
  db: Db;
  repo: DatabaseDirectRepo;
  box: SecretBox;
  audit: AuditService;
  keystore: KeyStore;
  targets: TargetResolver;
  /** Names what uses a connection (a policy), or undefined when nothing does. */
  usedBy(instanceId: string, connectionId: string): Promise<string | undefined>;
  /** Told after a connection changed or went, so cached database pools close. */
  onChange?(instanceId: string, connectionId: string): void;
  log?: { warn(o: object, msg: string): void };
  now?: () => Date;
}

/** Public path of a connection's JWKS on the device API. */
export const jwksPath = (id: string) => `/device/v1/database-connections/${id}/jwks.json`;

/**
 * Database-direct connections: settings, write-only credentials sealed under the master key,
 * and a P-256 key per connection in the key store that signs the devices' JWTs. The private key
 * never leaves the key store; its public key is shown as PEM and JWKS.
 */
export function createDatabaseDirectService(deps: DatabaseDirectServiceDeps) {
  const { db, repo, box, audit, keystore, targets } = deps;
  const now = deps.now ?? (() => new Date());

  const sealCtx = (instanceId: string, id: string) => ({
    instanceId,
    table: 'database_connections',
    row: id,
    column: 'secrets',
  });
  const seal = (instanceId: string, id: string, s: ConnectionSecrets) =>
    box.seal(Buffer.from(JSON.stringify(s)), sealCtx(instanceId, id));
  const open = (instanceId: string, c: StoredConnection): ConnectionSecrets =>
    JSON.parse(box.open(c.sealedSecrets, sealCtx(instanceId, c.id)).toString('utf8'));

  async function load(instanceId: string, id: string): Promise<StoredConnection> {
    const c = await repo.find(instanceId, id);
    if (!c) throw new NotFoundError(`database direct connection ${id} not found`);
    return c;
  }

  async function present(instanceId: string, c: StoredConnection): Promise<Connection> {
    const s = open(instanceId, c);
    const key = await keystore.publicKey(instanceId, c.keyId);
    return {
      id: c.id,
      name: c.name,
      type: c.type,
      url: c.url,
      database: c.database,
      dataSource: c.dataSource,
      caCertificate: c.caCertificate,
      tls: c.tls,
      secrets: { username: { set: !!s.username }, password: { set: !!s.password } },
      keyId: c.keyId,
      publicKeyPem: toPem(key.publicKeyDer, 'PUBLIC KEY'),
      jwksPath: jwksPath(c.id),
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
    };
  }

  /** The secrets after an update: a field left out (or sent obscured) keeps its value. */
  function merged(stored: ConnectionSecrets, input: ConnectionInput): ConnectionSecrets {
    const out: ConnectionSecrets = { ...stored };
    for (const f of SECRET_FIELDS) {
      const v = input[f];
      if (v !== undefined && v !== OBSCURED) out[f] = v;
    }
    return out;
  }

  async function validate(
    instanceId: string,
    input: ConnectionInput,
    secrets: ConnectionSecrets,
    selfId?: string,
  ): Promise<void> {
    const missing = SECRET_FIELDS.filter((f) => !secrets[f]);
    if (missing.length)
      throw new BadRequestError(
        `missing ${missing.join(', ')}`,
        { errors: missing.map((f) => ({ path: f, message: 'is required' })) },
        'validation-failed',
      );
    await targets.resolve({ ...input, username: secrets.username });
    const same = await repo.findByName(instanceId, input.name);
    if (same && same.id !== selfId) throw nameTaken(input.name);
  }

  const nameTaken = (name: string) =>
    new ConflictError(`a database direct connection named "${name}" already exists`, 'name-taken');

  const auditable = (input: ConnectionInput) => {
    const { username: _u, password: _p, ...rest } = input;
    return { ...rest, caCertificate: rest.caCertificate ? '(set)' : null };
  };

  return {
    async list(instanceId: string): Promise<Connection[]> {
      return Promise.all((await repo.list(instanceId)).map((c) => present(instanceId, c)));
    },
    async get(instanceId: string, id: string): Promise<Connection> {
      return present(instanceId, await load(instanceId, id));
    },
    /** The stored record, or undefined; for the token and data services. */
    find: (instanceId: string, id: string) => repo.find(instanceId, id),
    exists: async (instanceId: string, id: string) =>
      (await repo.find(instanceId, id)) !== undefined,
    /** The credentials, for the code that connects to the database; never for the API. */
    secretsOf: (instanceId: string, c: StoredConnection) => open(instanceId, c),
    /** The connection's public keys as a JWKS (RFC 7517). */
    async jwks(instanceId: string, id: string): Promise<{ keys: Jwk[] }> {
      const c = await load(instanceId, id);
      const key = await keystore.publicKey(instanceId, c.keyId);
      return { keys: [publicJwk(key.publicKeyDer, c.keyId)] };
    },
    async create(
      instanceId: string,
      input: ConnectionInput,
      ctx: AuditContext,
    ): Promise<Connection> {
      const secrets = merged({}, input);
      await validate(instanceId, input, secrets);
      const id = randomUUID();
      // The key is made before the transaction (a key store may be an HSM; no locks held while
      // it works); if the insert then fails, the key is removed again.
      const key = await keystore.generate(instanceId, {
        algorithm: 'P-256',
        label: `database-direct ${input.name}`,
        purpose: 'jwt',
      });
      try {
        await db.kysely.transaction().execute(async (tx) => {
          await repo.insert(
            instanceId,
            { ...input, id, keyId: key.id, secrets: seal(instanceId, id, secrets) },
            now().toISOString(),
            tx,
          );
          await recordChange(audit, tx, {
            instanceId,
            ctx,
            action: 'database-connection.create',
            target: { type: 'database-connection', id, name: input.name },
            details: { input: auditable(input), keyId: key.id },
          });
        });
      } catch (err) {
        await keystore.delete(instanceId, key.id).catch(() => undefined);
        if (isUniqueViolation(err)) throw nameTaken(input.name);
        throw err;
      }
      return present(instanceId, await load(instanceId, id));
    },
    async update(
      instanceId: string,
      id: string,
      input: ConnectionInput,
      ctx: AuditContext,
    ): Promise<Connection> {
      const stored = await load(instanceId, id);
      const secrets = merged(open(instanceId, stored), input);
      await validate(instanceId, input, secrets, id);
      await db.kysely.transaction().execute(async (tx) => {
        try {
          await repo.update(
            instanceId,
            { ...input, id, keyId: stored.keyId, secrets: seal(instanceId, id, secrets) },
            now().toISOString(),
            tx,
          );
        } catch (err) {
          if (isUniqueViolation(err)) throw nameTaken(input.name);
          throw err;
        }
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'database-connection.update',
          target: { type: 'database-connection', id, name: input.name },
          details: {
            input: auditable(input),
            secretsChanged: SECRET_FIELDS.filter(
              (f) => input[f] !== undefined && input[f] !== OBSCURED,
            ),
          },
        });
      });
      deps.onChange?.(instanceId, id);
      return present(instanceId, await load(instanceId, id));
    },
    async remove(instanceId: string, id: string, ctx: AuditContext): Promise<Connection> {
      const c = await load(instanceId, id);
      const shown = await present(instanceId, c);
      const user = await deps.usedBy(instanceId, id);
      if (user)
        throw new ConflictError(
          `database direct connection "${c.name}" is used by ${user}; change or remove that first`,
          'in-use',
        );
      await db.kysely.transaction().execute(async (tx) => {
        await repo.delete(instanceId, id, tx);
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'database-connection.delete',
          target: { type: 'database-connection', id, name: c.name },
          details: { keyId: c.keyId },
        });
      });
      deps.onChange?.(instanceId, id);
      // Its tokens can no longer be verified: the key goes with the connection. If the key
      // store fails here the key stays behind unused (nothing refers to it); the delete stands.
      await keystore
        .delete(instanceId, c.keyId)
        .catch((err) =>
          deps.log?.warn({ err, keyId: c.keyId }, 'database direct: removing the JWT key failed'),
        );
      return shown;
    },
  };
}
export type DatabaseDirectService = ReturnType<typeof createDatabaseDirectService>;
