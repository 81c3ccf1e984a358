import { z } from 'zod';
import { durationSchema, type Duration } from '../lib/duration.js';

export const DEVICE_KEY_TYPES = ['P-256', 'P-384', 'RSA-2048', 'RSA-3072'] as const;
export const ISSUING_KEY_TYPES = ['P-256', 'P-384', 'RSA-3072'] as const;
export const CONNECTION_TYPES = ['iot-hub', 'database-direct'] as const;

const name = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(64, 'must be at most 64 characters')
  .regex(/^[\p{L}\p{N} ._-]+$/u, 'may hold letters, digits, spaces, dot, underscore and hyphen');

/** What a user sends to create or replace a policy. */
export const policyInputSchema = z
  .object({
    name,
    connectionType: z.enum(CONNECTION_TYPES),
    hubId: z.string().min(1).nullable().default(null),
    databaseConnectionId: z.string().min(1).nullable().default(null),
    deviceCertificate: z.object({
      lifetime: durationSchema,
      keyTypes: z
        .array(z.enum(DEVICE_KEY_TYPES))
        .min(1, 'accept at least one key type')
        .default(['P-256'])
        .refine((a) => new Set(a).size === a.length, 'lists a key type twice'),
      operationalKeyAllowed: z.boolean().default(false),
      autoRenew: z.boolean().default(false),
      renewGracePeriod: durationSchema.default({ value: 7, unit: 'days' }),
    }),
    issuingCertificate: z.object({
      lifetime: durationSchema,
      keyType: z.enum(ISSUING_KEY_TYPES).default('P-256'),
      autoRenew: z.boolean().default(true),
    }),
    jwtLifetime: durationSchema.nullable().default(null),
  })
  .strict();
export type PolicyInput = z.infer<typeof policyInputSchema>;

export interface Policy {
  id: string;
  name: string;
  connectionType: (typeof CONNECTION_TYPES)[number];
  hubId: string | null;
  databaseConnectionId: string | null;
  deviceCertificate: {
    lifetime: Duration;
    keyTypes: (typeof DEVICE_KEY_TYPES)[number][];
    operationalKeyAllowed: boolean;
    autoRenew: boolean;
    renewGracePeriod: Duration;
  };
  issuingCertificate: {
    lifetime: Duration;
    keyType: (typeof ISSUING_KEY_TYPES)[number];
    autoRenew: boolean;
  };
  jwtLifetime: Duration | null;
  issuingCaId: string | null;
  createdAt: string;
  updatedAt: string;
}

export const policySchema = z.object({
  id: z.string(),
  name: z.string(),
  connectionType: z.enum(CONNECTION_TYPES),
  hubId: z.string().nullable(),
  databaseConnectionId: z.string().nullable(),
  deviceCertificate: z.object({
    lifetime: durationSchema,
    keyTypes: z.array(z.enum(DEVICE_KEY_TYPES)),
    operationalKeyAllowed: z.boolean(),
    autoRenew: z.boolean(),
    renewGracePeriod: durationSchema,
  }),
  issuingCertificate: z.object({
    lifetime: durationSchema,
    keyType: z.enum(ISSUING_KEY_TYPES),
    autoRenew: z.boolean(),
  }),
  jwtLifetime: durationSchema.nullable(),
  issuingCaId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
