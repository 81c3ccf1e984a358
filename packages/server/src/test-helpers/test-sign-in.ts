import * as OTPAuth from 'otpauth';
import { SESSION_COOKIE } from '../auth/access-hook.js';
import { totpCode } from '../auth/totp-fns.js';
import type { TestResponse, TestServer } from './test-server.js';

/** The `name=value` of the session cookie a response sets, for a Cookie header. */
export function sessionCookieOf(res: TestResponse): string | undefined {
  const set = res.headers['set-cookie'];
  const line = [set ?? []].flat().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  return line?.split(';')[0];
}

/** The raw secret from the base32 text an enrolment shows. */
export function secretFromBase32(base32: string): Buffer {
  return Buffer.from(OTPAuth.Secret.fromBase32(base32).bytes);
}

/** Headers of a signed-in console: the cookie and, for changes, the CSRF token. */
export interface ConsoleSession {
  cookie: string;
  csrf: string;
  headers: Record<string, string>;
}

/**
 * Signs in as a browser would (password, then a TOTP code from the secret at the server's
 * time), and returns the session's headers.
 */
export async function signInWithTotp(
  server: TestServer,
  now: () => Date,
  username: string,
  password: string,
  secret: Buffer,
): Promise<ConsoleSession> {
  const first = await server.request('POST', '/api/v1/auth/sign-in', {
    body: { username, password },
  });
  if (first.status !== 200) throw new Error(`sign-in: ${first.status} ${first.text}`);
  const { challenge } = first.json<{ challenge: string }>();
  const second = await server.request('POST', '/api/v1/auth/sign-in/second-factor', {
    body: { challenge, code: totpCode(secret, now()) },
  });
  if (second.status !== 200) throw new Error(`second factor: ${second.status} ${second.text}`);
  return sessionOf(second);
}

/** The console session a signed-in answer established. */
export function sessionOf(res: TestResponse): ConsoleSession {
  const cookie = sessionCookieOf(res);
  const { csrfToken } = res.json<{ csrfToken: string }>();
  if (!cookie) throw new Error('no session cookie');
  return { cookie, csrf: csrfToken, headers: { cookie, 'x-csrf-token': csrfToken } };
}
