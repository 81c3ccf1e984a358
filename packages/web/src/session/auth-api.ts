import { ApiError, type ApiClient } from '../api/api-client';
import type { SessionUser } from './session-context';

/**
 * The sign-in, session and setup calls of /api/v1 (the users domain of the server), in one
 * place so the pages stay about the screen.
 */

/** Header that carries the session's CSRF token on state-changing requests. */
export const CSRF_HEADER = 'x-csrf-token';

/** GET /auth/me: the caller, how they are signed in, and (for a session) its CSRF token. */
export interface SessionInfo {
  user: SessionUser;
  method: 'session' | 'token';
  csrfToken?: string;
  sessionExpiresAt?: string;
}

/** A new authenticator, as the server hands it out (QR code and the secret for typing). */
export interface TotpEnrolment {
  enrolmentId: string;
  otpauthUri: string;
  qrCode: string;
  secret: string;
  expiresAt: string;
}

export type SignInAnswer =
  | {
      status: 'signed-in';
      user: SessionUser;
      csrfToken: string;
      expiresAt: string;
      recoveryCodes?: string[];
    }
  | { status: 'second-factor-required'; challenge: string; expiresAt: string }
  | { status: 'enrolment-required'; challenge: string; expiresAt: string; totp: TotpEnrolment };

/**
 * The current session, or null when nobody is signed in (the server answers 401; the browser
 * logs that as a failed request, which is expected on a signed-out start).
 */
export async function readSession(api: ApiClient): Promise<SessionInfo | null> {
  try {
    return await api.get<SessionInfo>('/auth/me', { authStep: true });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export const signInWithPassword = (api: ApiClient, username: string, password: string) =>
  api.post<SignInAnswer>('/auth/sign-in', { username, password }, { authStep: true });

export const signInSecondFactor = (
  api: ApiClient,
  challenge: string,
  answer: { code: string } | { recoveryCode: string },
) =>
  api.post<SignInAnswer>(
    '/auth/sign-in/second-factor',
    { challenge, ...answer },
    { authStep: true },
  );

export const signOutRequest = (api: ApiClient) =>
  api.post<unknown>('/auth/sign-out', undefined, { authStep: true });

export interface SetupCheckAnswer {
  valid: true;
  expiresAt: string;
  totp: TotpEnrolment;
}

export const checkSetupLink = (api: ApiClient, token: string) =>
  api.post<SetupCheckAnswer>('/setup/check', { token }, { authStep: true });

export interface SetupInput {
  token: string;
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  password: string;
  enrolmentId: string;
  code: string;
}

/** Creates the first administrator; answers with the recovery codes (shown only here). */
export const claimInstance = (api: ApiClient, input: SetupInput) =>
  api.post<{ user: SessionUser; recoveryCodes: string[] }>('/setup', input, { authStep: true });
