/**
 * The audit log as the console shows it: one readable sentence per entry, built from the
 * fields the server records (GET /api/v1/audit), never from free text the server did not send.
 */

export type AuditResult = 'ok' | 'denied' | 'failed';

/** One entry as the API returns it (packages/server/src/audit/audit-routes.ts). */
export interface AuditEntry {
  seq: number;
  at: string;
  actor: { type: 'user' | 'token' | 'device' | 'system'; id: string | null; name: string };
  action: string;
  target: { type: string; id: string | null; name: string | null } | null;
  result: AuditResult;
  sourceAddress: string | null;
  details: Record<string, unknown>;
}

/** A page of the log and the cursor of the next (older) page. */
export interface AuditPage {
  entries: AuditEntry[];
  nextBefore: number | null;
}

type Phrase = (actor: string, target: string) => string;

/** Sentences for the actions the server records today; other actions fall back to their name. */
const PHRASES: Record<string, Phrase> = {
  'setup.claim': (a) => `${a} set up this instance`,
  'auth.sign-in': (a) => `${a} signed in`,
  'auth.sign-out': (a) => `${a} signed out`,
  'auth.second-factor': (a) => `${a} gave a second factor`,
  'auth.session.rejected': (a) => `session of ${a} refused`,
  'auth.token.rejected': (a) => `API token of ${a} refused`,
  'auth.csrf.rejected': (a) => `request of ${a} without a valid CSRF token refused`,
  'access.denied': (a, t) => `${a} was refused ${t}`,
  'user.create': (a, t) => `${a} created user ${t}`,
  'user.update': (a, t) => `${a} changed user ${t}`,
  'user.delete': (a, t) => `${a} deleted user ${t}`,
  'user.password.change': (a, t) => `${a} changed the password of ${t}`,
  'user.two-factor.enrol': (a) => `${a} enrolled an authenticator app`,
  'user.two-factor.reset': (a, t) => `${a} reset the authenticator of ${t}`,
  'user.recovery-codes.regenerate': (a) => `${a} replaced their recovery codes`,
  'token.create': (a, t) => `${a} created API token ${t}`,
  'token.revoke': (a, t) => `${a} revoked API token ${t}`,
  'audit.verify': (a) => `${a} verified the audit log`,
  'batch.devices.register': (a, t) => `${a} registered device IDs in batch ${t}`,
  'batch.devices.unregister': (a, t) => `${a} removed device ${t} from its batch`,
  'auth-cert.import': (a, t) => `${a} imported auth cert ${t}`,
  'enrolment-token.create': (a, t) => `${a} created enrolment token ${t}`,
  'enrolment-token.delete': (a, t) => `${a} deleted enrolment token ${t}`,
  // Entries recorded before enrolment tokens had their own actions (the log is never
  // rewritten): API tokens are never deleted, so an old `token.delete` is an enrolment token's.
  'token.delete': (a, t) => `${a} deleted enrolment token ${t}`,
  'pki.issuing-ca.create': (a, t) => `${a} created issuing CA ${t}`,
  'pki.issuing-ca.renew': (a, t) => `${a} renewed issuing CA ${t}`,
  'pki.signing-key.generate': (a, t) => `${a} generated signing key ${t}`,
  'pki.signing-key.import': (a, t) => `${a} imported signing key ${t}`,
  'pki.signing-key.delete': (a, t) => `${a} deleted signing key ${t}`,
  'pki.device-certificate.issue': (a, t) => `${a} issued device certificate ${t}`,
  'pki.device-certificate.revoke': (a, t) => `${a} revoked device certificate ${t}`,
};

/**
 * An enrolment token's creation recorded before the rename, under the API tokens' action
 * `token.create`: told from an API token's by its batch.
 */
const enrolmentToken = (e: Pick<AuditEntry, 'action'> & Partial<Pick<AuditEntry, 'details'>>) =>
  e.action === 'token.create' && typeof e.details?.batchId === 'string';

/** Past tenses for the generic `<noun>.<verb>` actions of other domains. */
const VERBS: Record<string, string> = {
  create: 'created',
  update: 'changed',
  delete: 'deleted',
  revoke: 'revoked',
};

const OUTCOME: Record<AuditResult, string> = { ok: '', denied: ' (denied)', failed: ' (failed)' };

function targetText(target: AuditEntry['target']): string {
  if (!target) return '';
  return target.name ?? target.id ?? target.type;
}

/** One sentence for an entry, e.g. "admin created user alice" or "ada signed in (failed)". */
export function describeEntry(
  e: Pick<AuditEntry, 'actor' | 'action' | 'target' | 'result'> &
    Partial<Pick<AuditEntry, 'details'>>,
) {
  const actor = e.actor.name || e.actor.type;
  const target = targetText(e.target);
  const phrase = enrolmentToken(e)
    ? (a: string, t: string) => `${a} created enrolment token ${t}`
    : PHRASES[e.action];
  const m = /^([a-z-]+)\.([a-z-]+)$/.exec(e.action);
  const verb = m ? VERBS[m[2]!] : undefined;
  const text = phrase
    ? phrase(actor, target || 'something')
    : verb
      ? `${actor} ${verb} ${m![1]!.replace(/-/g, ' ')}${target ? ` ${target}` : ''}`
      : `${actor}: ${e.action}${target ? ` ${target}` : ''}`;
  return text + OUTCOME[e.result];
}

/** A date-time in the user's locale and zone, to the second. */
export function formatTime(iso: string, locale?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(locale, {
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** The value of an <input type="datetime-local"> as the ISO instant the API expects. */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
