import { z } from 'zod';

export const credentialNameSchema = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(64, 'must be at most 64 characters')
  .regex(/^[\p{L}\p{N} ._-]+$/u, 'may hold letters, digits, spaces, dot, underscore and hyphen');

/** Largest count one credential may carry: a big production order, not an open door. */
export const MAX_DEVICES_LIMIT = 1_000_000;

export const createCredentialSchema = z
  .object({
    name: credentialNameSchema,
    batchId: z.string().min(1).max(64),
    notAfter: z.iso.datetime({ offset: true }),
    maxDevices: z.number().int().min(1).max(MAX_DEVICES_LIMIT),
  })
  .strict();
export type CreateCredentialInput = z.infer<typeof createCredentialSchema>;

export const credentialSchema = z.object({
  id: z.string(),
  name: z.string(),
  batchId: z.string(),
  hint: z.string().describe('last 4 characters of the credential'),
  notAfter: z.string(),
  maxDevices: z.number(),
  usedDevices: z.number(),
  status: z.enum(['active', 'expired', 'used-up']),
  createdAt: z.string(),
  createdBy: z.string(),
  lastUsedAt: z.string().nullable(),
});

const base64url = (what: string, max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, `${what} must be unpadded base64url`);

/** What a station sends to register a device: the device key and its proof over a challenge. */
export const registrationSchema = z
  .object({
    spki: base64url('spki', 4096).describe('DER SubjectPublicKeyInfo of the identity key'),
    nonce: base64url('nonce', 256).describe('a nonce from POST /api/v1/manufacturing/challenge'),
    signature: base64url('signature', 1024).describe(
      'the identity key\'s signature over the "register" proof input (docs/device-protocol.md) whose body field is the SPKI DER',
    ),
  })
  .strict();

export interface RegistrationResult {
  deviceId: string;
  batchId: string;
  batchName: string;
  /** False when the ID was already in this batch (nothing changed, nothing counted). */
  added: boolean;
}

export const registrationResultSchema = z.object({
  deviceId: z.string(),
  batchId: z.string(),
  batchName: z.string(),
  added: z.boolean(),
});
