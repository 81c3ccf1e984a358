import { z } from 'zod';
import {
  deviceIdSchema,
  isoTimeSchema,
  opaqueIdSchema,
  sha256HexSchema,
} from '../messages/common-schemas.js';

/**
 * Hardware attributes: names of letters, digits, `.`, `_` and `-`, string values. A manifest
 * lists those the target must have; a device states its own (the agent's `hardware` option).
 */
export const hardwareAttributesSchema = z
  .record(
    z
      .string()
      .regex(
        /^[A-Za-z0-9._-]{1,64}$/,
        'an attribute name is 1 to 64 letters, digits, ".", "_" or "-"',
      ),
    z.string().max(256),
  )
  .refine((h) => Object.keys(h).length <= 32, 'at most 32 hardware attributes');

/**
 * The update manifest (PRODUCT.md F3), independent of its envelope: today a JWS, later perhaps a
 * COSE_Sign1 for MCUs carrying the same fields. Strict: an unknown field is refused rather than
 * ignored, because a device must not skip a constraint it does not understand (new fields mean
 * a new `v`). Exactly one of `deviceId` (one device) and `batchId` (every device of a batch).
 */
export const manifestPayloadSchema = z
  .strictObject({
    v: z.literal(1),
    instanceId: opaqueIdSchema,
    deviceId: deviceIdSchema.optional(),
    batchId: opaqueIdSchema.optional(),
    firmwareId: opaqueIdSchema,
    name: z.string().min(1).max(128),
    version: z.string().min(1).max(64),
    /** Anti-rollback counter: a device refuses anything lower than what it has installed. */
    securityVersion: z.int().min(0).max(0xffffffff),
    /** Attributes the target must have, each with exactly this value. */
    hardware: hardwareAttributesSchema,
    size: z.int().min(0),
    sha256: sha256HexSchema,
    /** How the image is laid out (for example `raw`, `intel-hex`, `esp32-sbv2`). */
    format: z.string().regex(/^[a-z0-9][a-z0-9.+-]{0,31}$/),
    issuedAt: isoTimeSchema,
    expiresAt: isoTimeSchema,
  })
  .refine((m) => (m.deviceId === undefined) !== (m.batchId === undefined), {
    message: 'exactly one of deviceId and batchId',
    path: ['deviceId'],
  })
  .refine((m) => Date.parse(m.issuedAt) < Date.parse(m.expiresAt), {
    message: 'expiresAt must be after issuedAt',
    path: ['expiresAt'],
  });

export type ManifestPayload = z.infer<typeof manifestPayloadSchema>;

/** The `typ` of a manifest JWS. */
export const MANIFEST_JWS_TYPE = 'trustlink-manifest+jws';
