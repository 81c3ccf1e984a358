import { explicit, integer, oid, seq, set, tlv } from '../pki/der-fns.js';

const ID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const ID_DATA = '1.2.840.113549.1.7.1';

/**
 * A certs-only "degenerate" CMS SignedData (RFC 5652 5.1; RFC 7030 4.1.3 and 4.2.3): no content,
 * no signers, just certificates. DER sorts the elements of a SET OF by their encoding.
 */
export function certsOnlyPkcs7(certs: Buffer[]): Buffer {
  const sorted = [...certs].sort(Buffer.compare);
  const signedData = seq(integer(1), set(), seq(oid(ID_DATA)), tlv(0xa0, ...sorted), set());
  return seq(oid(ID_SIGNED_DATA), explicit(0, signedData));
}

/** Base64 with line breaks every 64 characters, as EST answers are written. */
export function base64Lines(der: Buffer): string {
  return `${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n`;
}

/**
 * The DER of a base64 EST body (Content-Transfer-Encoding: base64). Whitespace is ignored, and
 * PEM armour lines too, since people paste `openssl req` output; anything else that is not
 * base64 makes it undefined.
 */
export function decodeBase64Body(text: string): Buffer | undefined {
  const b64 = text
    .split(/\r?\n/)
    .filter((l) => !/^-----(BEGIN|END) [A-Z0-9 ]+-----$/.test(l.trim()))
    .join('')
    .replace(/\s+/g, '');
  if (!b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined;
  return Buffer.from(b64, 'base64');
}

/** The password of an HTTP Basic Authorization header (EST carries the token there). */
export function basicPassword(header: string | undefined): string | undefined {
  const m = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header?.trim() ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

const ID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const CURVES: Record<string, string> = { 'P-256': '1.2.840.10045.3.1.7', 'P-384': '1.3.132.0.34' };
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';

/**
 * CsrAttrs (RFC 7030 4.5.2) for a list of accepted key types: the key algorithm with its curve
 * as an attribute (id-ecPublicKey { curve }), and the signature algorithm as an OID.
 */
export function csrAttrs(keyTypes: readonly string[]): Buffer {
  const items: Buffer[] = [];
  for (const t of keyTypes) {
    const curve = CURVES[t];
    if (curve) items.push(seq(oid(ID_EC_PUBLIC_KEY), set(oid(curve))));
  }
  if (keyTypes.some((t) => t.startsWith('P-'))) items.push(oid(ECDSA_WITH_SHA256));
  if (keyTypes.some((t) => t.startsWith('RSA')))
    items.push(oid(RSA_ENCRYPTION), oid(SHA256_WITH_RSA));
  return seq(...items);
}
