import { z } from 'zod';
import { ROLES } from './users-types.js';

/** Usernames: unique, immutable, letters, digits, hyphen and underscore (PRODUCT.md U3). */
export const USERNAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

export const usernameSchema = z
  .string()
  .regex(USERNAME_PATTERN, 'use 1 to 64 letters, digits, hyphens or underscores');
export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`);
export const nameSchema = z.string().trim().min(1, 'must not be empty').max(100);
export const emailSchema = z.email('must be an email address').max(254);
export const roleSchema = z.enum(ROLES);

/** The key usernames are unique and looked up by: case does not make a different account. */
export function usernameKey(username: string): string {
  return username.toLowerCase();
}

export type PasswordCheck = { ok: true } | { ok: false; reason: string };

/**
 * Length rules follow NIST SP 800-63B (long passphrases welcome, no composition rules); a
 * password that merely repeats the username is refused.
 */
export function checkPassword(password: string, username: string): PasswordCheck {
  const parsed = passwordSchema.safeParse(password);
  if (!parsed.success) return { ok: false, reason: `password ${parsed.error.issues[0]?.message}` };
  if (password.toLowerCase().includes(username.toLowerCase()) && username.length >= 4) {
    return { ok: false, reason: 'password must not contain the username' };
  }
  if (new Set(password).size < 4) {
    return { ok: false, reason: 'password must use at least 4 different characters' };
  }
  return { ok: true };
}
