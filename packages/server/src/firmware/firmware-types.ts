import { z } from 'zod';

/** Image layouts; each decides which native signatures an assignment produces. */
export const FIRMWARE_FORMATS = ['raw', 'esp32-sbv2', 'linux-bundle-cms'] as const;
export type FirmwareFormat = (typeof FIRMWARE_FORMATS)[number];

/** What an upload is: the image itself, or Intel HEX text that is converted to it. */
export const SOURCE_FORMATS = ['binary', 'intel-hex'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

/** Kinds of signature made of an image: the manifest, and the native formats. */
export const SIGNATURE_KINDS = ['manifest', 'esp32-sbv2', 'cms'] as const;
export type SignatureKind = (typeof SIGNATURE_KINDS)[number];

/** Where a device is in an update. `pending` is the platform's; devices report the rest. */
export const UPDATE_STATUSES = [
  'pending',
  'downloading',
  'installing',
  'installed',
  'failed',
] as const;
export type UpdateStatus = (typeof UPDATE_STATUSES)[number];

/** Attribute names are those a manifest's `hardware` map accepts (PROTOCOL.md). */
export const ATTRIBUTE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const MAX_ATTRIBUTES = 32;
export const MAX_ATTRIBUTE_VALUE = 256;

export const attributeSchema = z
  .object({
    name: z
      .string()
      .regex(ATTRIBUTE_NAME, 'must be 1 to 64 letters, digits, dots, underscores or hyphens'),
    value: z.string().max(MAX_ATTRIBUTE_VALUE),
  })
  .strict();
export type Attribute = z.infer<typeof attributeSchema>;

export const attributesSchema = z
  .array(attributeSchema)
  .max(MAX_ATTRIBUTES)
  .refine((list) => new Set(list.map((a) => a.name)).size === list.length, {
    message: 'attribute names must be unique',
  });

export const firmwareNameSchema = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(128, 'must be at most 128 characters')
  .regex(
    /^[\p{L}\p{N} ._+-]+$/u,
    'may hold letters, digits, spaces, dot, plus, underscore and hyphen',
  );

export const versionSchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,64}$/, 'must be 1 to 64 visible ASCII characters without spaces');

export const securityVersionSchema = z.coerce.number().int().min(0).max(0xffffffff);

export const descriptionSchema = z.string().max(1024);

/** Metadata of an upload (query parameters: the body is the image). */
export interface FirmwareUploadInput {
  name: string;
  description: string;
  version: string;
  securityVersion: number;
  format: FirmwareFormat;
  input: SourceFormat;
  attributes: Attribute[];
}

export const firmwareEditSchema = z
  .object({
    name: firmwareNameSchema.optional(),
    description: descriptionSchema.optional(),
    attributes: attributesSchema.optional(),
  })
  .strict();
export type FirmwareEdit = z.infer<typeof firmwareEditSchema>;

export const signatureViewSchema = z.object({
  id: z.string(),
  keyId: z.string(),
  /** The signing key's name; null once the key has been deleted. */
  keyName: z.string().nullable(),
  kind: z.enum(SIGNATURE_KINDS),
  size: z.number().nullable(),
  createdAt: z.string(),
});
export type SignatureView = z.infer<typeof signatureViewSchema>;

export const firmwareSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  version: z.string(),
  securityVersion: z.number(),
  format: z.enum(FIRMWARE_FORMATS),
  input: z.enum(SOURCE_FORMATS),
  baseAddress: z.number().nullable(),
  size: z.number(),
  sha256: z.string(),
  attributes: z.array(attributeSchema),
  signatures: z.array(signatureViewSchema),
  batches: z.array(z.object({ id: z.string(), name: z.string() })),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Firmware = z.infer<typeof firmwareSchema>;

export const assignmentSchema = z
  .object({ firmwareId: z.string().min(1).max(128), signingKeyId: z.string().min(1).max(128) })
  .strict();
export type Assignment = z.infer<typeof assignmentSchema>;

export const updateViewSchema = z.object({
  id: z.string(),
  batchId: z.string(),
  firmwareId: z.string(),
  firmwareName: z.string(),
  version: z.string(),
  securityVersion: z.number(),
  signingKeyId: z.string(),
  format: z.enum(FIRMWARE_FORMATS),
  imageSha256: z.string(),
  imageSize: z.number(),
  manifestExpiresAt: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  supersededAt: z.string().nullable(),
});
export type UpdateView = z.infer<typeof updateViewSchema>;

export const rolloutDeviceSchema = z.object({
  deviceId: z.string(),
  status: z.enum(UPDATE_STATUSES),
  reason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  downloadingAt: z.string().nullable(),
  installingAt: z.string().nullable(),
  installedAt: z.string().nullable(),
  failedAt: z.string().nullable(),
  reportedAt: z.string().nullable(),
});
export type RolloutDevice = z.infer<typeof rolloutDeviceSchema>;

export const rolloutCountsSchema = z.object({
  total: z.number(),
  pending: z.number(),
  downloading: z.number(),
  installing: z.number(),
  installed: z.number(),
  failed: z.number(),
});
export type RolloutCounts = z.infer<typeof rolloutCountsSchema>;

export const rolloutSchema = z.object({
  update: updateViewSchema.nullable(),
  counts: rolloutCountsSchema,
  items: z.array(rolloutDeviceSchema),
  total: z.number(),
});
export type Rollout = z.infer<typeof rolloutSchema>;
