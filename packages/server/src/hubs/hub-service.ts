import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import { recordChange } from '../audit/record-change.js';
import type { Db, Executor } from '../db/database.js';
import { isUniqueViolation } from '../db/db-errors.js';
import { BadRequestError, ConflictError, NotFoundError } from '../lib/errors.js';
import type { OutboundGuard } from '../lib/outbound-guard.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { cloudApiTargets } from './cloud/cloud-types.js';
import { mergeSecrets, presentHub, splitSecrets } from './hub-fns.js';
import type { HubRepo, StoredHub } from './hub-repo.js';
import type { Hub, HubInput, HubType } from './hub-types.js';

/** Outbox topic: bring an outside broker in line with the hub (files, ACL, reload). */
export const HUB_SYNC_TOPIC = 'hub.sync';

export interface HubServiceDeps {
  db: Db;
  repo: HubRepo;
  box: SecretBox;
  audit: AuditService;
  outbox: OutboxRepo;
  guard: OutboundGuard;
  /** The operator's `mosquittoManagedRoot`; unset means no Mosquitto hub can be managed. */
  mosquittoManagedRoot?: string;
  /** Names the first policy pointing at a hub, or undefined. */
  policyUsingHub(instanceId: string, hubId: string): Promise<string | undefined>;
  /** Revokes a certificate (a removed hub's tools). */
  revokeCertificate(instanceId: string, certificateId: string, ctx: AuditContext): Promise<void>;
  /** In the save transaction of a hub: intents of other parts (a cloud hub's own set-up). */
  afterSave?(tx: Executor, instanceId: string, hub: { id: string; type: HubType }): Promise<void>;
  now?: () => Date;
}

export type HubChange = {
  instanceId: string;
  hubId: string;
  kind: 'created' | 'updated' | 'deleted';
};

const nameTaken = (name: string) =>
  new ConflictError(`an IoT hub named "${name}" already exists`, 'name-taken');

/** The address fields of each type that the platform (or its status check) connects to. */
export function outboundTarget(
  type: HubType,
  settings: Record<string, unknown>,
): { host: string; port: number } | undefined {
  switch (type) {
    case 'mosquitto':
    case 'aws-iot-core':
      return {
        host: String(settings.host ?? settings.endpoint),
        port: Number(settings.port),
      };
    case 'azure-iot-hub':
      return { host: String(settings.hostName), port: 443 };
    case 'azure-iot-central': {
      const u = new URL(String(settings.appUrl));
      return { host: u.hostname, port: Number(u.port || 443) };
    }
    default:
      return undefined;
  }
}

/**
 * IoT hub records: settings per type, secrets sealed under the master key and write-only.
 * Changes are audited and, for brokers the platform manages, followed by an outbox entry that
 * brings the broker in line.
 */
export function createHubService(deps: HubServiceDeps) {
  const { db, repo, box, audit, outbox, guard } = deps;
  const now = deps.now ?? (() => new Date());
  const listeners = new Set<(c: HubChange) => void>();

  const sealCtx = (instanceId: string, id: string) => ({
    instanceId,
    table: 'hubs',
    row: id,
    column: 'secrets',
  });
  const seal = (instanceId: string, id: string, secrets: Record<string, string>) =>
    box.seal(Buffer.from(JSON.stringify(secrets)), sealCtx(instanceId, id));
  const open = (instanceId: string, h: StoredHub): Record<string, string> =>
    JSON.parse(box.open(h.sealedSecrets, sealCtx(instanceId, h.id)).toString('utf8'));

  function emit(c: HubChange): void {
    for (const l of listeners) l(c);
  }

  async function load(instanceId: string, id: string): Promise<StoredHub> {
    const h = await repo.find(instanceId, id);
    if (!h) throw new NotFoundError(`IoT hub ${id} not found`);
    return h;
  }

  async function validate(instanceId: string, input: HubInput, selfId?: string): Promise<void> {
    if (input.type === 'mosquitto' && !deps.mosquittoManagedRoot) {
      throw new BadRequestError(
        'Mosquitto hubs need the operator to set mosquittoManagedRoot (TRUSTLINK_MOSQUITTO_MANAGED_ROOT)',
        { errors: [{ path: 'settings.managedDirectory', message: 'managed Mosquitto is off' }] },
        'validation-failed',
      );
    }
    const target = outboundTarget(input.type, input.settings as Record<string, unknown>);
    if (target) await guard.resolve(target.host, target.port);
    for (const t of cloudApiTargets(input.type, input.settings as Record<string, unknown>))
      await guard.resolve(t.host, t.port);
    const same = await repo.findByName(instanceId, input.name);
    if (same && same.id !== selfId) throw nameTaken(input.name);
  }

  async function get(instanceId: string, id: string): Promise<Hub> {
    const h = await load(instanceId, id);
    return presentHub(h, Object.keys(open(instanceId, h)));
  }

  function missingSecrets(missing: string[]): BadRequestError {
    return new BadRequestError(
      `missing ${missing.join(', ')}`,
      { errors: missing.map((f) => ({ path: `settings.${f}`, message: 'is required' })) },
      'validation-failed',
    );
  }

  async function afterChange(tx: Executor, instanceId: string, h: { id: string; type: HubType }) {
    if (h.type === 'mosquitto')
      await outbox.enqueue(
        tx,
        { instanceId, topic: HUB_SYNC_TOPIC, subject: `hub:${h.id}`, payload: { hubId: h.id } },
        now(),
      );
    await deps.afterSave?.(tx, instanceId, h);
  }

  return {
    /** Told after every committed change (brokers reload their rules, caches drop). */
    onChange(l: (c: HubChange) => void): () => void {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    async list(instanceId: string): Promise<Hub[]> {
      return (await repo.list(instanceId)).map((h) =>
        presentHub(h, Object.keys(open(instanceId, h))),
      );
    },
    get,
    /** The stored record (settings without secrets), or undefined; for other domains. */
    find: (instanceId: string, id: string) => repo.find(instanceId, id),
    exists: async (instanceId: string, id: string) =>
      (await repo.find(instanceId, id)) !== undefined,
    /** The secret values, for the code that talks to the hub's service; never for the API. */
    async secretsOf(instanceId: string, id: string): Promise<Record<string, string>> {
      return open(instanceId, await load(instanceId, id));
    },
    async create(instanceId: string, input: HubInput, ctx: AuditContext): Promise<Hub> {
      const { plain, given } = splitSecrets(input.type, input.settings as Record<string, unknown>);
      const { secrets, missing } = mergeSecrets(input.type, {}, given);
      if (missing.length) throw missingSecrets(missing);
      await validate(instanceId, input);
      const id = randomUUID();
      await db.kysely.transaction().execute(async (tx) => {
        try {
          await repo.insert(
            instanceId,
            {
              id,
              name: input.name,
              type: input.type,
              settings: plain,
              secrets: seal(instanceId, id, secrets),
            },
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
          action: 'hub.create',
          target: { type: 'hub', id, name: input.name },
          // Names of the secrets set, never their values.
          details: { type: input.type, settings: plain, secretsSet: Object.keys(secrets) },
        });
        await afterChange(tx, instanceId, { id, type: input.type });
      });
      emit({ instanceId, hubId: id, kind: 'created' });
      return get(instanceId, id);
    },
    /** Replaces name and settings; a secret left out (or sent obscured) keeps its value. */
    async update(instanceId: string, id: string, input: HubInput, ctx: AuditContext): Promise<Hub> {
      const current = await load(instanceId, id);
      if (current.type !== input.type)
        throw new ConflictError(
          `IoT hub ${id} is of type ${current.type}; create a new hub for another type`,
          'type-change',
        );
      await validate(instanceId, input, id);
      const { plain, given } = splitSecrets(input.type, input.settings as Record<string, unknown>);
      const { secrets, missing } = mergeSecrets(input.type, open(instanceId, current), given);
      if (missing.length) throw missingSecrets(missing);
      await db.kysely.transaction().execute(async (tx) => {
        try {
          await repo.update(
            instanceId,
            id,
            { name: input.name, settings: plain, secrets: seal(instanceId, id, secrets) },
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
          action: 'hub.update',
          target: { type: 'hub', id, name: input.name },
          details: { settings: plain, secretsChanged: Object.keys(given) },
        });
        await afterChange(tx, instanceId, current);
      });
      emit({ instanceId, hubId: id, kind: 'updated' });
      return get(instanceId, id);
    },
    /** Removes a hub no policy uses; its tools' certificates are revoked first. */
    async remove(instanceId: string, id: string, ctx: AuditContext): Promise<Hub> {
      const h = await load(instanceId, id);
      const shown = presentHub(h, Object.keys(open(instanceId, h)));
      const user = await deps.policyUsingHub(instanceId, id);
      if (user)
        throw new ConflictError(
          `IoT hub "${h.name}" is used by ${user}; change that first`,
          'in-use',
        );
      const tools = await repo.listTools(instanceId, id);
      const certs = [...tools.map((t) => t.certificateId), h.platformCertificateId].filter(
        (c): c is string => Boolean(c),
      );
      for (const c of certs) {
        await deps.revokeCertificate(instanceId, c, ctx).catch((err: unknown) => {
          // Already revoked (an earlier attempt) is fine; anything else stops the removal.
          if (!(err instanceof ConflictError)) throw err;
        });
      }
      await db.kysely.transaction().execute(async (tx) => {
        await repo.deleteTools(instanceId, id, tx);
        await repo.delete(instanceId, id, tx);
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'hub.delete',
          target: { type: 'hub', id, name: h.name },
          details: { type: h.type, toolsRemoved: tools.map((t) => t.name) },
        });
      });
      emit({ instanceId, hubId: id, kind: 'deleted' });
      return shown;
    },
    /** Tells listeners a hub changed in a way its record does not show (tools added, removed). */
    touched(instanceId: string, hubId: string): void {
      emit({ instanceId, hubId, kind: 'updated' });
    },
  };
}
export type HubService = ReturnType<typeof createHubService>;
