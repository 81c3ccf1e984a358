import type { Role } from '../app/nav-fns';
import type { CaCertificate, CaStatus, EnrolmentToken } from './hsm-types';

/** The HSM screen's tabs, in order, and who sees them (the server decides regardless). */
export const HSM_TABS = [
  { value: 'issuing', label: 'Issuing certificates', adminOnly: false },
  { value: 'tls', label: 'TLS', adminOnly: false },
  { value: 'root', label: 'OEM root', adminOnly: false },
  { value: 'auth-certs', label: 'Auth certs', adminOnly: false },
  // Tokens are for administrators only, listing included (enrolment-token-routes.ts).
  { value: 'tokens', label: 'Tokens', adminOnly: true },
  // Manufacturing credentials sit beside tokens: the same kind of platform-made secret for a
  // batch, shown once, administrators only (manufacturing-routes.ts).
  { value: 'manufacturing', label: 'Manufacturing', adminOnly: true },
  { value: 'signing-keys', label: 'Signing keys', adminOnly: false },
] as const;
export type HsmTab = (typeof HSM_TABS)[number]['value'];

/** The tab a `?tab=` value names; anything else opens the first. */
export function tabOf(param: string | null): HsmTab {
  return HSM_TABS.find((t) => t.value === param)?.value ?? 'issuing';
}

/**
 * The tabs a role sees. A tab typed into the address (`?tab=tokens` by a contributor) is shown
 * too, so the user sees the server's refusal rather than nothing.
 */
export function visibleTabs(role: Role, current: HsmTab) {
  return HSM_TABS.filter((t) => !t.adminOnly || role === 'administrator' || t.value === current);
}

/** Counts of issuing certificates by status, for the dashboard tiles. */
export function issuingCounts(
  certs: Pick<CaCertificate, 'kind' | 'status'>[],
): Record<CaStatus, number> {
  const counts: Record<CaStatus, number> = { valid: 0, expired: 0, 'not used': 0 };
  for (const c of certs) if (c.kind === 'issuing') counts[c.status] += 1;
  return counts;
}

/** A file name made of a name: lowercase letters, digits and hyphens. */
export function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'unnamed'
  );
}

/** "issuing-line-a.pem", or with its chain up to the root "issuing-line-a-chain.pem". */
export function certificateFileName(
  c: Pick<CaCertificate, 'kind' | 'name'>,
  chain: boolean,
): string {
  return `${c.kind}-${slug(c.name)}${chain ? '-chain' : ''}.pem`;
}

/** "nohsm-dev-key-public.pem" for key "nohsm:dev key". */
export function publicKeyFileName(keyName: string): string {
  return `${slug(keyName)}-public.pem`;
}

/** A Date as the value of an <input type="datetime-local"> in the browser's zone. */
export function toLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A token's window when nothing is chosen yet: from now, for 90 days. */
export function defaultTokenWindow(now: Date): { notBefore: string; notAfter: string } {
  return {
    notBefore: toLocalInput(now),
    notAfter: toLocalInput(new Date(now.getTime() + 90 * 86_400_000)),
  };
}

export interface TokenFormValues {
  name: string;
  batchId: string | null;
  notBefore: string;
  notAfter: string;
}

const NAME = /^[\p{L}\p{N} ._-]+$/u;

/** What the server would refuse in a new token (enrolment-token routes and service). */
export function tokenErrors(v: TokenFormValues, now: Date): Record<string, string> {
  const errors: Record<string, string> = {};
  const name = v.name.trim();
  if (!name) errors.name = 'Enter a name';
  else if (name.length > 64) errors.name = 'Use at most 64 characters';
  else if (!NAME.test(name))
    errors.name = 'Use letters, digits, spaces, dots, underscores and hyphens';
  if (!v.batchId) errors.batchId = 'Choose the batch whose devices present this token';
  const nb = new Date(v.notBefore).getTime();
  const na = new Date(v.notAfter).getTime();
  if (!v.notBefore || Number.isNaN(nb)) errors.notBefore = 'Enter a date and time';
  if (!v.notAfter || Number.isNaN(na)) errors.notAfter = 'Enter a date and time';
  else if (!Number.isNaN(nb) && na <= nb) errors.notAfter = 'Must be later than "not before"';
  else if (na <= now.getTime()) errors.notAfter = 'Is in the past: the token could never be used';
  return errors;
}

/** Whether a token is usable now, not yet, or no more. */
export function tokenStatus(t: Pick<EnrolmentToken, 'notBefore' | 'notAfter'>, now: Date) {
  const n = now.getTime();
  if (Date.parse(t.notAfter) <= n) return 'expired' as const;
  if (Date.parse(t.notBefore) > n) return 'not yet valid' as const;
  return 'valid' as const;
}

const SIGNING_KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;

/** Why a signing key name is refused, or null (the server's rule in signing-key-service.ts). */
export function signingKeyNameError(raw: string): string | null {
  const v = raw.trim();
  if (!v) return 'Enter a name';
  if (!SIGNING_KEY_NAME.test(v))
    return 'Use 1 to 64 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit';
  return null;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const labels = (pem: string) => [...pem.matchAll(PEM_BLOCK)].map((m) => m[1]!);

/** Why a pasted private key cannot be imported, or null: one unencrypted PEM private key. */
export function privateKeyPemError(pem: string): string | null {
  const found = labels(pem);
  if (found.includes('ENCRYPTED PRIVATE KEY'))
    return 'The key is encrypted; import an unencrypted key (development keys only)';
  const keys = found.filter((l) => /^(EC |RSA )?PRIVATE KEY$/.test(l));
  if (keys.length === 0)
    return 'Paste a PEM private key (-----BEGIN PRIVATE KEY-----, EC PRIVATE KEY or RSA PRIVATE KEY)';
  if (keys.length > 1) return 'Paste one private key';
  return null;
}

/**
 * Why a pasted CA certificate cannot be imported, or null. A private key in the paste is
 * refused before it is ever sent: it should not leave its owner.
 */
export function certificatePemError(pem: string): string | null {
  const found = labels(pem);
  if (found.some((l) => l.includes('PRIVATE KEY')))
    return 'The text holds a private key: paste only the CA certificate, and keep the key secret';
  const certs = found.filter((l) => l === 'CERTIFICATE');
  if (certs.length === 0) return 'Paste a PEM certificate (-----BEGIN CERTIFICATE-----)';
  if (certs.length > 1)
    return `The text holds ${certs.length} certificates; import one CA certificate at a time`;
  return null;
}
