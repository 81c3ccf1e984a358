import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { MasterKeyRing } from './master-key.js';

/**
 * Where a sealed value lives. It is bound into the ciphertext as associated data, so a blob
 * copied to another instance, table, row or column fails to open.
 */
export interface SealContext {
  instanceId: string;
  table: string;
  row: string;
  column: string;
}

const VERSION = 1;
const KEY_ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER = 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES;

export class SealError extends Error {
  override name = 'SealError';
}

function aad(ctx: SealContext, keyId: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`trustlink-seal-v${VERSION}\0${ctx.instanceId}\0${ctx.table}\0${ctx.row}\0${ctx.column}\0`),
    keyId,
  ]);
}

/** The id of the master key a blob was sealed with. */
export function sealedKeyId(blob: Buffer): string {
  if (blob.length < HEADER || blob[0] !== VERSION) throw new SealError('not a sealed value');
  return blob.subarray(1, 1 + KEY_ID_BYTES).toString('hex');
}

/** Secret encryption at rest: AES-256-GCM under the current master key. */
export interface SecretBox {
  seal(plaintext: Buffer, ctx: SealContext): Buffer;
  open(blob: Buffer, ctx: SealContext): Buffer;
  /** Re-seals a blob under the current master key (rotation). */
  reseal(blob: Buffer, ctx: SealContext): Buffer;
  readonly currentKeyId: string;
}

/**
 * `reload` is called once when a blob names a key the ring lacks: a rotation run by another
 * process may have added it to the key file since this one started.
 */
export function createSecretBox(ring: () => MasterKeyRing, reload?: () => void): SecretBox {
  const seal = (plaintext: Buffer, ctx: SealContext): Buffer => {
    const { current } = ring();
    const keyId = Buffer.from(current.id, 'hex');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    cipher.setAAD(aad(ctx, keyId));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), keyId, iv, cipher.getAuthTag(), ct]);
  };
  const open = (blob: Buffer, ctx: SealContext): Buffer => {
    const id = sealedKeyId(blob);
    let mk = ring().byId(id);
    if (!mk && reload) {
      reload();
      mk = ring().byId(id);
    }
    if (!mk) throw new SealError(`sealed with master key ${id}, which this server does not have`);
    const keyId = blob.subarray(1, 1 + KEY_ID_BYTES);
    const iv = blob.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + IV_BYTES);
    const tag = blob.subarray(1 + KEY_ID_BYTES + IV_BYTES, HEADER);
    const decipher = createDecipheriv('aes-256-gcm', mk.key, iv);
    decipher.setAAD(aad(ctx, keyId));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(blob.subarray(HEADER)), decipher.final()]);
    } catch {
      throw new SealError(
        `sealed value for ${ctx.table}.${ctx.column} of ${ctx.row} failed authentication (moved or altered)`,
      );
    }
  };
  return {
    seal,
    open,
    reseal: (blob, ctx) => seal(open(blob, ctx), ctx),
    get currentKeyId() {
      return ring().current.id;
    },
  };
}
