/**
 * The server's rules for account fields (packages/server/src/users/users-fns.ts), checked in the
 * browser first so a form says what is wrong before sending. The server checks again and has
 * the last word: its message is shown when it disagrees.
 */

export const USERNAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

/** Each returns the message for a bad value, or null when it is acceptable. */
export function usernameError(v: string): string | null {
  return USERNAME_PATTERN.test(v) ? null : 'Use 1 to 64 letters, digits, hyphens or underscores';
}

export function passwordError(password: string, username: string): string | null {
  if (password.length < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `Use at most ${PASSWORD_MAX} characters`;
  if (username.length >= 4 && password.toLowerCase().includes(username.toLowerCase())) {
    return 'The password must not contain the username';
  }
  if (new Set(password).size < 4) return 'Use at least 4 different characters';
  return null;
}

export function nameError(v: string): string | null {
  const t = v.trim();
  if (!t) return 'Required';
  return t.length > 100 ? 'Use at most 100 characters' : null;
}

/** A deliberately loose check (one @, a dot in the domain); the server has the exact rule. */
export function emailError(v: string): string | null {
  if (v.length > 254) return 'Use at most 254 characters';
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? null : 'Enter an email address';
}

/** Six digits from an authenticator app (spaces allowed while typing). */
export function totpCodeError(v: string): string | null {
  return /^\d{6}$/.test(v.replace(/\s/g, '')) ? null : 'Enter the 6-digit code from your app';
}

/** The token of a setup link from the URL fragment (`#token=...`), or null. */
export function setupTokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token');
  return token && /^[A-Za-z0-9_-]{16,128}$/.test(token) ? token : null;
}
