import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import type { CaRepo } from '../pki/ca-repo.js';
import type { InstancePki } from '../pki/instance-pki.js';
import { writeMasterKeyCheck } from '../secrets/master-key-check.js';
import type { SecretBox } from '../secrets/secret-box.js';
import type { InstanceRecord, InstanceRepo } from './instance-repo.js';

/**
 * What the database holds of a first start:
 * - `empty`: no Trustlink schema yet;
 * - `unfinished`: a first start was cut short (crash, key-store or database error) before the
 *   instance had its root CA. Nothing in it is worth keeping: without a root no endpoint ever
 *   served, no user or device exists, and the only sealed values are keys of that attempt;
 * - `created`: an instance with its root CA exists (its data is sealed with the master key).
 */
export type FirstStartState = 'empty' | 'unfinished' | 'created';

export async function firstStartState(db: Db): Promise<FirstStartState> {
  const tables = await db.kysely.introspection.getTables();
  if (!tables.some((t) => t.name === 'instances')) return 'empty';
  const root = await db.kysely
    .selectFrom('ca_certificates')
    .select('id')
    .where('kind', '=', 'root')
    .limit(1)
    .executeTakeFirst();
  return root ? 'created' : 'unfinished';
}

/**
 * Creates the instance, or finishes the one a cut-short first start left. Run under the start-up
 * lock. Every step can be interrupted and is taken up again by the next start:
 * 1. the instance row and the master key check, in one transaction;
 * 2. the OEM root CA: its key goes to the key store first (its row refers to the instance),
 *    then the certificate row. An instance without a root CA is unfinished, so keys left by an
 *    attempt that stopped between the two are removed before the root is made again.
 * The TLS certificate follows at every start (instance-pki ensureTls), which issues a missing one.
 */
export function createInstanceCreation(deps: {
  db: Db;
  instances: InstanceRepo;
  keystore: KeyStore;
  caRepo: CaRepo;
  pki: InstancePki;
  box: SecretBox;
  log: Logger;
  now: () => Date;
}) {
  const { db, instances, keystore, caRepo, pki, box, log, now } = deps;

  /** Removes the keys an interrupted first start left for an instance that has no root CA. */
  async function removeLeftoverKeys(instanceId: string): Promise<void> {
    const leftovers = await db.kysely
      .selectFrom('keys')
      .select(['id', 'purpose'])
      .where('instance_id', '=', instanceId)
      .execute();
    for (const k of leftovers) {
      try {
        await keystore.delete(instanceId, k.id);
      } catch (err) {
        // The row goes regardless: a key whose backend is gone cannot be used by anyone.
        await db.kysely
          .deleteFrom('keys')
          .where('instance_id', '=', instanceId)
          .where('id', '=', k.id)
          .execute();
        log.warn({ err, keyId: k.id }, 'removed a leftover key row; its backend did not answer');
      }
    }
    if (leftovers.length)
      log.warn(
        { instance: instanceId, keys: leftovers.length },
        'removed the keys of an interrupted first start',
      );
  }

  return {
    async ensure(name: string): Promise<{ instance: InstanceRecord; created: boolean }> {
      let instance = await instances.findByName(name);
      if (instance && (await caRepo.current(instance.id, 'root'))) {
        return { instance, created: false };
      }
      if (!instance) {
        const rec: InstanceRecord = {
          id: randomUUID(),
          name,
          createdAt: now().toISOString(),
          claimedAt: null,
        };
        await db.kysely.transaction().execute(async (tx) => {
          await instances.insert(rec, tx);
          await writeMasterKeyCheck(tx, box, rec.createdAt);
        });
        instance = rec;
      } else {
        log.warn(
          { instance: instance.id },
          'the first start of this instance was interrupted before its root CA existed; finishing it',
        );
        // The check value of the interrupted attempt may be sealed with a key that was removed
        // with it (a generated key file); this start's key is the one from now on.
        await writeMasterKeyCheck(db.kysely, box, now().toISOString());
        await removeLeftoverKeys(instance.id);
      }
      const root = await pki.createRoot(instance.id, instance.name);
      log.info(
        { instance: instance.id, rootSerial: root.serial },
        'created instance and its OEM root CA',
      );
      return { instance, created: true };
    },
  };
}
