import { type X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

/** Clock skew the agent allows when judging certificate validity (the platform backdates 5 min). */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
const MAX_DEPTH = 6;

export type ChainCheck = { ok: true } | { ok: false; detail: string };

export interface ChainExpectation {
  /** The pinned instance root. */
  root: X509Certificate;
  /** Host name (or IP literal) the certificate must name; omitted for non-TLS chains. */
  host?: string;
  /** The agent's time. */
  at: Date;
  /**
   * Used before the agent knows the time (a device without a clock asking for signed time):
   * validity is judged only against the persisted floor (nothing may have expired before it).
   */
  timeUnknown?: boolean;
  /** Required extended key usage of the leaf, when it has the extension. */
  extendedKeyUsage?: string;
}

function validAt(c: X509Certificate, e: ChainExpectation): string | undefined {
  const from = Date.parse(c.validFrom);
  const to = Date.parse(c.validTo);
  const t = e.at.getTime();
  if (to < t - (e.timeUnknown ? 0 : CLOCK_SKEW_MS)) return `"${c.subject}" expired at ${c.validTo}`;
  if (!e.timeUnknown && from > t + CLOCK_SKEW_MS)
    return `"${c.subject}" is not valid before ${c.validFrom}`;
  return undefined;
}

const oneLine = (s: string) => s.replace(/\n/g, ', ');

/**
 * Checks that `leaf` chains, through some of `intermediates`, to the pinned root: every link's
 * issuer name matches and its signature verifies with the issuer's key, every issuer is a CA,
 * every certificate is valid at the agent's time, and the leaf names the host. This is the
 * agent's own path validation, so it can judge validity with the platform's signed time on a
 * device whose clock is wrong (OpenSSL only knows the system clock).
 */
export function checkChainToRoot(
  leaf: X509Certificate,
  intermediates: X509Certificate[],
  e: ChainExpectation,
): ChainCheck {
  if (e.host !== undefined) {
    const host = e.host.replace(/^\[|\]$/g, '');
    const named = isIP(host) ? leaf.checkIP(host) : leaf.checkHost(host);
    if (!named)
      return {
        ok: false,
        detail: `the server certificate "${oneLine(leaf.subject)}" does not name ${e.host}`,
      };
  }
  if (e.extendedKeyUsage && leaf.keyUsage && !leaf.keyUsage.includes(e.extendedKeyUsage))
    return { ok: false, detail: `"${oneLine(leaf.subject)}" is not for ${e.extendedKeyUsage}` };
  let current = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const invalid = validAt(current, e);
    if (invalid) return { ok: false, detail: oneLine(invalid) };
    if (current.fingerprint256 === e.root.fingerprint256) return { ok: true };
    if (current.checkIssued(e.root) && current.verify(e.root.publicKey)) {
      const rootInvalid = validAt(e.root, e);
      return rootInvalid
        ? { ok: false, detail: `pinned root ${oneLine(rootInvalid)}` }
        : { ok: true };
    }
    const next = intermediates.find(
      (c) =>
        c.ca &&
        c.fingerprint256 !== current.fingerprint256 &&
        current.checkIssued(c) &&
        current.verify(c.publicKey),
    );
    if (!next) {
      return {
        ok: false,
        detail: `the chain ends at "${oneLine(current.issuer)}", which is not the pinned root "${oneLine(e.root.subject)}"`,
      };
    }
    current = next;
  }
  return { ok: false, detail: 'the certificate chain is too long' };
}

/** PEM text of one or more DER certificates. */
export function pemOf(ders: Buffer[]): string {
  return ders
    .map(
      (d) =>
        `-----BEGIN CERTIFICATE-----\n${d
          .toString('base64')
          .replace(/(.{64})/g, '$1\n')
          .replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
    )
    .join('');
}
