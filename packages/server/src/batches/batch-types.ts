import { z } from 'zod';

export const attributeFilterSchema = z
  .object({
    operator: z.enum(['and', 'or']).default('and'),
    filters: z
      .array(
        z.object({ name: z.string().trim().min(1).max(64), value: z.string().max(256) }).strict(),
      )
      .max(32)
      .default([]),
  })
  .strict();
export type AttributeFilter = z.infer<typeof attributeFilterSchema>;

export const batchNameSchema = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(64, 'must be at most 64 characters')
  .regex(/^[\p{L}\p{N} ._-]+$/u, 'may hold letters, digits, spaces, dot, underscore and hyphen');

export const batchInputSchema = z
  .object({
    name: batchNameSchema,
    policyId: z.string().min(1),
    attributeFilter: attributeFilterSchema.default({ operator: 'and', filters: [] }),
  })
  .strict();
export type BatchInput = z.infer<typeof batchInputSchema>;

export interface Batch {
  id: string;
  name: string;
  policyId: string;
  policyName: string;
  firmwareId: string | null;
  signingKeyId: string | null;
  attributeFilter: AttributeFilter;
  counts: { devices: number; enrolled: number; renewed: number; expired: number; revoked: number };
  createdAt: string;
  updatedAt: string;
}

export const batchSchema = z.object({
  id: z.string(),
  name: z.string(),
  policyId: z.string(),
  policyName: z.string(),
  firmwareId: z.string().nullable(),
  signingKeyId: z.string().nullable(),
  attributeFilter: attributeFilterSchema,
  counts: z.object({
    devices: z.number(),
    enrolled: z.number(),
    renewed: z.number(),
    expired: z.number(),
    revoked: z.number(),
  }),
  createdAt: z.string(),
  updatedAt: z.string(),
});
