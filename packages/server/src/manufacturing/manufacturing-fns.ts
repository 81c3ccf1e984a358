import { createHash, randomBytes } from 'node:crypto';

/** Prefix of manufacturing credentials: tells them apart from API tokens (`tlk_`) at a glance. */
export const CREDENTIAL_PREFIX = 'tlm_';
const CREDENTIAL_PATTERN = /^tlm_[A-Za-z0-9_-]{43}$/;

/** A new credential: 256 random bits, base64url, with the prefix. */
export function newCredential(random: (n: number) => Buffer = randomBytes): string {
  return CREDENTIAL_PREFIX + random(32).toString('base64url');
}

export function looksLikeCredential(value: string): boolean {
  return CREDENTIAL_PATTERN.test(value);
}

/** Only this hash is stored (256 random bits make a fast hash enough). */
export function hashCredential(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export type CredentialStatus = 'active' | 'expired' | 'used-up';

/** What a credential can still do at `now`. */
export function credentialStatus(
  c: { notAfter: string; maxDevices: number; usedDevices: number },
  now: Date,
): CredentialStatus {
  if (now.getTime() >= Date.parse(c.notAfter)) return 'expired';
  if (c.usedDevices >= c.maxDevices) return 'used-up';
  return 'active';
}

/** The bearer value of an Authorization header, or undefined when it is not `Bearer <value>`. */
export function bearerOf(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
