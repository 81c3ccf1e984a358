import { createContext, useContext } from 'react';
import type { Role } from '../app/nav-fns';

/** A user as the API shows it (packages/server/src/users/users-schemas.ts). */
export interface SessionUser {
  id: string;
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  role: Role;
  twoFactorEnabled: boolean;
  twoFactorEnrolled: boolean;
  disabled: boolean;
  disabledAt: string | null;
  lastLoginAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SessionValue {
  /** undefined while the first check runs; null when nobody is signed in. */
  user: SessionUser | null | undefined;
  /** Re-reads the session from the server (after sign-in). */
  refresh: () => Promise<SessionUser | null>;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<SessionValue | null>(null);

/** The current session; only inside <SessionProvider>. */
export function useSession(): SessionValue {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside <SessionProvider>');
  return s;
}
