import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  databaseBlockSchema,
  derSchema,
  deviceIdSchema,
  hubBlockSchema,
  isoTimeSchema,
  opaqueIdSchema,
  signingBlockSchema,
} from '@trustlink/protocol';
import { z } from 'zod';
import { ensurePrivateDir, writeFileAtomic } from './atomic-file.js';

export const AGENT_STATE_FILE = 'agent-state.json';

/** Where the device stands in the operating mode. */
export const AGENT_PHASES = ['unenrolled', 'enrolled', 'revoked'] as const;
export type AgentPhase = (typeof AGENT_PHASES)[number];

const certificateSchema = z.object({
  /** Device certificate, DER base64url. */
  der: derSchema,
  serial: z.string().regex(/^[0-9a-f]{1,40}$/),
  notAfter: isoTimeSchema,
  renewAt: isoTimeSchema,
  /** Issuing CAs above it, root excluded (DER base64url). */
  chain: z.array(derSchema),
});

export const agentStateSchema = z.object({
  version: z.literal(1),
  deviceId: deviceIdSchema,
  phase: z.enum(AGENT_PHASES),
  enrolment: z
    .object({
      instanceId: opaqueIdSchema,
      batchId: opaqueIdSchema,
      trustAnchors: z.array(derSchema).min(1),
      hub: hubBlockSchema.optional(),
      signing: signingBlockSchema.optional(),
      database: databaseBlockSchema.optional(),
      enrolledAt: isoTimeSchema,
    })
    .optional(),
  certificate: certificateSchema.optional(),
  /** What the platform said at the last check-in (`enrolled`, `renewed`, `expired`). */
  platformState: z.string().optional(),
  /** ETag of the last 200 check-in, for If-None-Match. */
  etag: z.string().max(256).optional(),
  lastCheckInAt: isoTimeSchema.optional(),
  lastRenewedAt: isoTimeSchema.optional(),
  /** Failed calls in a row (reset by a success) and the last failure. */
  failures: z.int().min(0).default(0),
  lastError: z.object({ at: isoTimeSchema, message: z.string() }).optional(),
  nextAttemptAt: isoTimeSchema.optional(),
  /** Time never goes back below this on the device (PROTOCOL.md "Time"). */
  timeFloor: isoTimeSchema.optional(),
  /** The update the platform offered last, and what the update handler made of it. */
  update: z
    .object({
      id: opaqueIdSchema,
      manifestUrl: z.string(),
      /**
       * `offered`: handed to the handler (still so if the agent stopped meanwhile);
       * `in-progress`: the handler has more to do (resume a download, confirm after the reboot);
       * `handled`: done; `failed`: the handler threw (tried again when offered again).
       */
      state: z.enum(['offered', 'in-progress', 'handled', 'failed']),
      at: isoTimeSchema,
      detail: z.string().optional(),
    })
    .optional(),
  revokedAt: isoTimeSchema.optional(),
  /** Raised each time the credentials directory is rewritten with new content. */
  credentialsGeneration: z.int().min(0).default(0),
});
export type AgentState = z.infer<typeof agentStateSchema>;

/** Reads agent-state.json; null when the agent has never run. A damaged file is an error. */
export function readAgentState(stateDir: string): AgentState | null {
  const file = path.join(stateDir, AGENT_STATE_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
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
  const parsed = agentStateSchema.safeParse(data);
  if (!parsed.success) throw new Error(`${file} is not a valid agent state`);
  return parsed.data;
}

/** Writes agent-state.json atomically (mode 0600 in the 0700 state directory). */
export function writeAgentState(stateDir: string, state: AgentState): void {
  ensurePrivateDir(stateDir);
  writeFileAtomic(
    path.join(stateDir, AGENT_STATE_FILE),
    JSON.stringify(agentStateSchema.parse(state), null, 2) + '\n',
  );
}
