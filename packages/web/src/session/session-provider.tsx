import { notifications } from '@mantine/notifications';
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError, createApiClient } from '../api/api-client';
import { ApiContext } from '../api/api-context';
import { CSRF_HEADER, readSession, signOutRequest } from './auth-api';
import { SessionContext, type SessionUser, type SessionValue } from './session-context';

/**
 * Owns the session: reads it at start, keeps the CSRF token for writes, and reacts to a 401 on
 * any call by forgetting the user, so the guarded routes send them to sign-in (and back to
 * where they were once signed in again).
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<SessionUser | null | undefined>(undefined);
  const csrf = useRef<string | undefined>(undefined);
  const signedIn = useRef(false);
  useEffect(() => {
    signedIn.current = !!user;
  }, [user]);

  const api = useMemo(
    () =>
      createApiClient({
        csrfHeaders: (): Record<string, string> =>
          csrf.current ? { [CSRF_HEADER]: csrf.current } : {},
        onSessionEnded: () => {
          csrf.current = undefined;
          if (signedIn.current) {
            notifications.show({
              id: 'session-ended',
              color: 'orange',
              title: 'Signed out',
              message: 'Your session has ended. Sign in again to continue.',
            });
          }
          setUser(null);
        },
      }),
    [],
  );

  const refresh = useCallback(async () => {
    try {
      const s = await readSession(api);
      csrf.current = s?.csrfToken;
      setUser(s?.user ?? null);
      return s?.user ?? null;
    } catch (err) {
      // The server is down or answers oddly: treat as signed out; sign-in shows the cause.
      csrf.current = undefined;
      setUser(null);
      if (!(err instanceof ApiError)) throw err;
      return null;
    }
  }, [api]);

  const signOut = useCallback(async () => {
    try {
      await signOutRequest(api);
    } finally {
      csrf.current = undefined;
      setUser(null);
    }
  }, [api]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const value = useMemo<SessionValue>(() => ({ user, refresh, signOut }), [user, refresh, signOut]);
  return (
    <ApiContext.Provider value={api}>
      <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
    </ApiContext.Provider>
  );
}
