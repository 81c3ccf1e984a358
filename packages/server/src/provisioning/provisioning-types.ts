import { wifiSchema } from '@trustlink/protocol';
import { z } from 'zod';
import { BOOTLOADER_KINDS, DEVICE_TYPES } from './provisioning-fns.js';

const refSchema = (what: string) => z.string().trim().min(1, `choose ${what}`).max(64);

/** What an administrator sets on a task. */
export const taskInputSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, 'is required')
      .max(128, 'must be at most 128 characters')
      .regex(
        /^[\p{L}\p{N} ._+-]+$/u,
        'may hold letters, digits, spaces, dot, plus, underscore and hyphen',
      ),
    deviceType: z.enum(DEVICE_TYPES),
    bootloaderKind: z.enum(BOOTLOADER_KINDS),
    bootloaderFirmwareId: refSchema('the bootloader'),
    partitionTableFirmwareId: refSchema('the partition table'),
    iefFirmwareId: refSchema('the initial enrolment firmware'),
    batchId: refSchema('the batch'),
  })
  .strict();
export type TaskInput = z.infer<typeof taskInputSchema>;

const named = z.object({ id: z.string(), name: z.string() });

export const taskSchema = z.object({
  id: z.string(),
  name: z.string(),
  deviceType: z.enum(DEVICE_TYPES),
  bootloaderKind: z.enum(BOOTLOADER_KINDS),
  bootloader: named,
  partitionTable: named,
  ief: named,
  batch: named,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Task = z.infer<typeof taskSchema>;

/**
 * A run is `started` until the console finishes it (`finished`, with the device ID) or fails it
 * (`failed`, with the reason); one nobody ended within the configured time (the browser was
 * closed) becomes `abandoned` on the server's sweep, and a late identity for it is refused.
 */
export const RUN_STATUSES = ['started', 'finished', 'failed', 'abandoned'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const runSchema = z.object({
  id: z.string(),
  taskId: z.string(),
  status: z.enum(RUN_STATUSES),
  deviceId: z.string().nullable(),
  reason: z.string().nullable(),
  startedBy: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
});
export type Run = z.infer<typeof runSchema>;

/** A page of a task's runs, newest first. */
export const runPageQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(200).default(20),
});
export const runPageSchema = z.object({ items: z.array(runSchema), total: z.number().int() });

/** Starting a run: the Wi-Fi the device joins. Used for this answer only, never stored. */
export const runStartSchema = z.object({ wifi: wifiSchema }).strict();

export const IMAGE_PARTS = ['bootloader', 'partition-table', 'config', 'ief'] as const;

/** What the console writes, in order: each image's bytes (base64) at its flash address. */
export const flashPlanSchema = z.object({
  run: runSchema,
  deviceType: z.enum(DEVICE_TYPES),
  /** The chip name esptool-js reports, so the console can refuse another chip before writing. */
  chip: z.string(),
  bootloaderKind: z.enum(BOOTLOADER_KINDS),
  /** The key the bootloader and IEF are signed with, or null (development, batch without key). */
  signingKey: z.object({ id: z.string(), name: z.string(), algorithm: z.string() }).nullable(),
  images: z.array(
    z.object({
      part: z.enum(IMAGE_PARTS),
      name: z.string(),
      address: z.number().int(),
      size: z.number().int(),
      sha256: z.string(),
      signed: z.boolean(),
      data: z.string().describe('the bytes to write, base64'),
    }),
  ),
});
export type FlashPlan = z.infer<typeof flashPlanSchema>;

export const identityInputSchema = z
  .object({
    line: z
      .string()
      .max(1024)
      .describe('the line the device printed: TRUSTLINK-IDENTITY v1 <base64 DER SPKI>'),
  })
  .strict();

export const identityResultSchema = z.object({
  run: runSchema,
  deviceId: z.string(),
  batch: named,
  /** True when the ID was in this batch already (a device provisioned again): nothing added. */
  alreadyInBatch: z.boolean(),
});

export const failureInputSchema = z
  .object({ reason: z.string().trim().min(1, 'say what went wrong').max(500) })
  .strict();
