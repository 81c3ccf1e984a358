import { z } from 'zod';
import { ROLES } from './users-types.js';
import {
  emailSchema,
  nameSchema,
  passwordSchema,
  roleSchema,
  usernameSchema,
} from './users-fns.js';

/** A user in API responses. */
export const userSchema = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  role: z.enum(ROLES),
  twoFactorEnabled: z.boolean(),
  twoFactorEnrolled: z.boolean(),
  disabled: z.boolean(),
  disabledAt: z.string().nullable(),
  lastLoginAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const newUserSchema = z.strictObject({
  username: usernameSchema,
  email: emailSchema,
  firstName: nameSchema,
  lastName: nameSchema,
  role: roleSchema,
  password: passwordSchema,
  twoFactorEnabled: z.boolean().default(true),
});

export const userPatchSchema = z.strictObject({
  username: z.never({ error: 'usernames cannot be changed' }).optional(),
  email: emailSchema.optional(),
  firstName: nameSchema.optional(),
  lastName: nameSchema.optional(),
  role: roleSchema.optional(),
  twoFactorEnabled: z.boolean().optional(),
  disabled: z.boolean().optional(),
  password: passwordSchema.optional(),
});
