/** Roles (PRODUCT.md U2): administrators may do everything, contributors less. */
export const ROLES = ['administrator', 'contributor'] as const;
export type Role = (typeof ROLES)[number];

/** A user as the API shows it: never the password hash or the second-factor secret. */
export interface User {
  id: string;
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  role: Role;
  twoFactorEnabled: boolean;
  /** Whether an authenticator app is enrolled (with two-factor on, enrolment happens at sign-in). */
  twoFactorEnrolled: boolean;
  disabled: boolean;
  disabledAt: string | null;
  lastLoginAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The stored row, including the password hash; stays inside the server. */
export interface UserRecord extends Omit<User, 'twoFactorEnrolled' | 'disabled'> {
  instanceId: string;
  passwordHash: string;
}

export interface NewUser {
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  role: Role;
  password: string;
  twoFactorEnabled?: boolean;
}

/** What an administrator may change; the username is immutable. */
export interface UserPatch {
  email?: string;
  firstName?: string;
  lastName?: string;
  role?: Role;
  twoFactorEnabled?: boolean;
  disabled?: boolean;
  password?: string;
}
