import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { KEY_TYPES } from '../keystore/key-store-types.js';
import { ensurePrivateDir, writeFileAtomic } from './atomic-file.js';

const IDENTITY_FILE = 'identity.json';

const identityStateSchema = z.object({
  version: z.literal(1),
  deviceId: z.string().regex(/^[0-9a-f]{64}$/),
  keyType: z.enum(KEY_TYPES),
  keyStore: z.object({ type: z.enum(['tpm', 'pkcs11', 'file']) }).catchall(z.string()),
  /** Base64 DER SPKI, so later steps can show the key without asking the key store. */
  publicKey: z.string(),
  createdAt: z.string(),
});

/** What the agent records in its state directory about its identity (no private material). */
export type IdentityState = z.infer<typeof identityStateSchema>;

/** Reads identity.json from the state directory; null when there is none. */
export function readIdentityState(stateDir: string): IdentityState | null {
  let text: string;
  try {
    text = readFileSync(path.join(stateDir, IDENTITY_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  const parsed = identityStateSchema.safeParse(data);
  if (!parsed.success)
    throw new Error(`${path.join(stateDir, IDENTITY_FILE)} is not a valid identity state`);
  return parsed.data;
}

/** Writes identity.json atomically (mode 0600, directory 0700). */
export function writeIdentityState(stateDir: string, state: IdentityState): void {
  ensurePrivateDir(stateDir);
  writeFileAtomic(path.join(stateDir, IDENTITY_FILE), JSON.stringify(state, null, 2) + '\n');
}
