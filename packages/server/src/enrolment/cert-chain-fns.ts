import { X509Certificate } from 'node:crypto';

/** Clock skew allowed when judging the validity of certificates devices present. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** Longest chain from a factory certificate to its auth cert (leaf and intermediates). */
const MAX_DEPTH = 8;

/** A CA certificate a presented certificate may chain to (auth cert or issuing CA). */
export interface Anchor {
  id: string;
  der: Buffer;
}

export type ChainCheck =
  { ok: true; anchorId: string; path: Buffer[] } | { ok: false; reason: string };

/** Parses DER; undefined when it is not a certificate. */
export function parseCertificate(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

/** True when `child` names `issuer` as its issuer and `issuer`'s key verifies its signature. */
export function signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * A self-signed certificate whose own key verifies its signature (a bootstrap certificate).
 * Not `checkIssued`: that also wants keyCertSign, which a device's bootstrap certificate
 * rightly lacks.
 */
export function isSelfSigned(x: X509Certificate): boolean {
  try {
    return x.subject === x.issuer && x.verify(x.publicKey);
  } catch {
    return false;
  }
}

/** Why a certificate is not valid at `now` (with clock skew), or undefined when it is. */
export function validityProblem(x: X509Certificate, now: Date, what: string): string | undefined {
  const t = now.getTime();
  const from = Date.parse(x.validFrom);
  const to = Date.parse(x.validTo);
  if (t + CLOCK_SKEW_MS < from)
    return `${what} is not valid before ${new Date(from).toISOString()}`;
  if (t - CLOCK_SKEW_MS >= to) return `${what} expired at ${new Date(to).toISOString()}`;
  return undefined;
}

/**
 * Builds a path from a presented leaf through the intermediates it came with to one of the
 * anchors, checking each signature, each validity period and that every issuer is a CA. The
 * anchor is trusted as imported (it was checked then); the path never loops and never
 * exceeds a few certificates.
 */
export function chainToAnchor(
  leafDer: Buffer,
  intermediates: Buffer[],
  anchors: Anchor[],
  now: Date,
): ChainCheck {
  const leaf = parseCertificate(leafDer);
  if (!leaf) return { ok: false, reason: 'the presented certificate is malformed' };
  const leafProblem = validityProblem(leaf, now, 'the factory certificate');
  if (leafProblem) return { ok: false, reason: leafProblem };
  const parsedAnchors = anchors
    .map((a) => ({ id: a.id, x: parseCertificate(a.der) }))
    .filter((a): a is { id: string; x: X509Certificate } => a.x !== undefined);
  const pool = intermediates
    .map((d) => ({ der: d, x: parseCertificate(d) }))
    .filter(
      (c): c is { der: Buffer; x: X509Certificate } => c.x !== undefined && !c.der.equals(leafDer),
    );
  const path: Buffer[] = [leafDer];
  const used = new Set<string>();
  let current = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const anchor = parsedAnchors.find((a) => signedBy(current, a.x));
    if (anchor) return { ok: true, anchorId: anchor.id, path };
    const next = pool.find((c) => !used.has(c.x.fingerprint256) && signedBy(current, c.x));
    if (!next) {
      return {
        ok: false,
        reason: `the certificate chain ends at "${current.issuer.replace(/\n/g, ', ')}", which is no auth cert of this instance`,
      };
    }
    if (!next.x.ca) return { ok: false, reason: 'an intermediate certificate is not a CA' };
    const problem = validityProblem(next.x, now, 'an intermediate certificate');
    if (problem) return { ok: false, reason: problem };
    used.add(next.x.fingerprint256);
    path.push(next.der);
    current = next.x;
  }
  return { ok: false, reason: 'the certificate chain is too long' };
}

/**
 * The serial of a certificate as the PKI stores it: lowercase hex of the INTEGER's value
 * without leading zero bytes (OpenSSL prints upper case and may pad to whole bytes).
 */
export function serialOf(x: X509Certificate): string {
  let hex = x.serialNumber.toLowerCase();
  if (hex.length % 2) hex = `0${hex}`;
  while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
  return hex;
}
