import { createContext, useContext } from 'react';
import type { Role } from '../app/nav-fns';

/** The signed-in user as the console needs it. */
export interface SessionUser {
  id: string;
  username: string;
  role: Role;
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
