import type { Kysely } from 'kysely';
import { ConfigError, type Config } from '../config.js';
import type { Db } from '../db/database.js';
import { verifyMasterKeyCheck, writeMasterKeyCheck } from './master-key-check.js';
import { generateMasterKey, makeRing, readMasterKeyFile, writeMasterKeyFile } from './master-key.js';
import { createSecretBox, type SealContext } from './secret-box.js';
import { SEALED_COLUMNS } from './sealed-columns.js';

/**
 * Replaces the master key and re-seals every sealed column under the new one. Crash-safe in
 * three steps: (1) the key file gains the new key as current while keeping the old one, so
 * both open; (2) one transaction re-seals every row and the check value; (3) the old key
 * leaves the file. Running servers pick up the new key when they meet a blob sealed with it.
 */
export async function rotateMasterKey(config: Config, db: Db, log: { info(fields: object, msg: string): void }): Promise<{ oldKeyId: string; newKeyId: string; rows: number }> {
  if (config.masterKey) {
    throw new ConfigError(
      'master-key rotate: the key comes from TRUSTLINK_MASTER_KEY; rotation rewrites the key file, so run it with TRUSTLINK_MASTER_KEY_FILE instead',
    );
  }
  const before = readMasterKeyFile(config.masterKeyFile);
  const oldBox = createSecretBox(() => before);
  const check = await verifyMasterKeyCheck(db.kysely, oldBox);
  if (!check.ok) throw new ConfigError(`master key: ${check.reason}`);

  const fresh = generateMasterKey();
  // Keep every key of the old file: after an interrupted rotation some rows use each of them.
  const keys = [fresh, ...before.all];
  writeMasterKeyFile(config.masterKeyFile, keys);
  const ring = makeRing(keys, config.masterKeyFile);
  const box = createSecretBox(() => ring);

  let rows = 0;
  await db.kysely.transaction().execute(async (tx) => {
    for (const col of SEALED_COLUMNS) {
      // Dynamic table access is confined to this one maintenance task over the registry.
      let q = (tx as unknown as Kysely<Record<string, Record<string, unknown>>>)
        .selectFrom(col.table)
        .select(['instance_id', ...col.key, col.column]);
      if (col.only) q = q.where(col.only.column, '=', col.only.value);
      const found = await q.execute();
      for (const row of found) {
        const ctx: SealContext = {
          instanceId: String(row.instance_id),
          table: col.table,
          row: col.key.map((k) => String(row[k])).join('/'),
          column: col.column,
        };
        const resealed = box.reseal(Buffer.from(row[col.column] as Uint8Array), ctx);
        let u = (tx as unknown as Kysely<Record<string, Record<string, unknown>>>)
          .updateTable(col.table)
          .set({ [col.column]: resealed })
          .where('instance_id', '=', row.instance_id);
        for (const k of col.key) u = u.where(k, '=', row[k]);
        await u.execute();
        rows++;
      }
      log.info({ table: col.table, column: col.column, rows: found.length }, 're-sealed column');
    }
    await writeMasterKeyCheck(tx, box, new Date().toISOString());
  });
  writeMasterKeyFile(config.masterKeyFile, [fresh]);
  return { oldKeyId: before.current.id, newKeyId: fresh.id, rows };
}
