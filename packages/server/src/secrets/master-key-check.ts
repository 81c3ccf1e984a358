import type { Executor } from '../db/database.js';
import { SealError, sealedKeyId, type SecretBox } from './secret-box.js';

const NAME = 'master-key-check';
const PLAINTEXT = Buffer.from('trustlink master key check');
const CTX = { instanceId: '*', table: 'server_meta', row: NAME, column: 'value' };

/**
 * A value sealed with the master key when the database was created. Opening it at start proves
 * the configured key is the one the data was sealed with, before anything is touched.
 */
export async function writeMasterKeyCheck(db: Executor, box: SecretBox, now: string): Promise<void> {
  const value = box.seal(PLAINTEXT, CTX).toString('base64');
  await db
    .insertInto('server_meta')
    .values({ name: NAME, value, updated_at: now })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_at: now }))
    .execute();
}

export type MasterKeyCheck = { ok: true } | { ok: false; reason: string };

export async function verifyMasterKeyCheck(db: Executor, box: SecretBox): Promise<MasterKeyCheck> {
  const row = await db.selectFrom('server_meta').select('value').where('name', '=', NAME).executeTakeFirst();
  if (!row) return { ok: false, reason: 'the database has no master key check value (not created by Trustlink?)' };
  const blob = Buffer.from(row.value, 'base64');
  try {
    box.open(blob, CTX);
    return { ok: true };
  } catch (err) {
    if (err instanceof SealError) {
      return {
        ok: false,
        reason: `the master key (id ${box.currentKeyId}) does not match this database, which was sealed with master key id ${sealedKeyId(blob)}`,
      };
    }
    throw err;
  }
}
