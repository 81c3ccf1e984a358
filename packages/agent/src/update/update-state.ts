import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ensurePrivateDir, writeFileAtomic } from '../state/atomic-file.js';

/**
 * The agent's update state, `<stateDir>/update/update-state.json`, written atomically at every
 * step so a power cut or a reboot in the middle of an update resumes at the right step:
 *
 * - `securityVersion`: the committed anti-rollback counter. It only moves up, and only once the
 *   new image is confirmed (A/B: after the reboot into it).
 * - `current`: the update in progress, with its verified manifest and the step reached.
 * - `finished`: updates already decided (installed or failed), so a repeated announcement is
 *   not installed twice; `reported` says whether the server has heard the outcome.
 */

export const UPDATE_DIR = 'update';
const STATE_FILE = 'update-state.json';

export const UPDATE_PHASES = [
  'downloading',
  'installing',
  /** The activate hook is running or ran: the device may be rebooting into the new image. */
  'activating',
] as const;
export type UpdatePhase = (typeof UPDATE_PHASES)[number];

const currentSchema = z.object({
  updateId: z.string(),
  phase: z.enum(UPDATE_PHASES),
  /** The manifest JWS as received (verified before it was stored). */
  manifestJws: z.string(),
  securityVersion: z.int().min(0),
  version: z.string(),
  size: z.int().min(0),
  sha256: z.string(),
  /** ETag of the partial download, sent as If-Range when resuming. */
  etag: z.string().optional(),
  /** Boot id when the activate hook ran: confirm waits until the device has rebooted. */
  activatedBootId: z.string().optional(),
});

const updateStateSchema = z.object({
  version: z.literal(1),
  securityVersion: z.int().min(0).max(0xffffffff),
  current: currentSchema.optional(),
  finished: z.record(
    z.string(),
    z.object({
      status: z.enum(['installed', 'failed']),
      detail: z.string().optional(),
      at: z.string(),
      reported: z.boolean(),
    }),
  ),
});

export type UpdateState = z.infer<typeof updateStateSchema>;
export type CurrentUpdate = z.infer<typeof currentSchema>;

export const updateDir = (stateDir: string) => path.join(stateDir, UPDATE_DIR);

/** Reads the update state; a device that never updated starts at security version 0. */
export function readUpdateState(stateDir: string): UpdateState {
  const file = path.join(updateDir(stateDir), STATE_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { version: 1, securityVersion: 0, finished: {} };
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  const parsed = updateStateSchema.safeParse(data);
  // A damaged state file must stop updates rather than reset the anti-rollback counter to 0.
  if (!parsed.success) throw new Error(`${file} is not a valid update state`);
  return parsed.data;
}

export function writeUpdateState(stateDir: string, state: UpdateState): void {
  ensurePrivateDir(updateDir(stateDir));
  writeFileAtomic(
    path.join(updateDir(stateDir), STATE_FILE),
    JSON.stringify(state, null, 2) + '\n',
  );
}
