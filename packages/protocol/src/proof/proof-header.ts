import { fromBase64url, toBase64url } from '../encoding/base64url.js';
import { type Result, fail } from '../result.js';

/**
 * The `Trustlink-Proof` request header:
 *
 *   Trustlink-Proof: spki=<base64url DER SPKI>; nonce=<challenge nonce>; sig=<base64url signature>
 *   Trustlink-Proof: cert=<base64url DER certificate>; nonce=<challenge nonce>; sig=<base64url>
 *
 * Exactly three fields, in this order, separated by "; " (semicolon, one space), values in
 * canonical unpadded base64url. `spki` carries the identity key itself (a device not yet
 * enrolled); `cert` a certificate for it (a factory or device certificate), whose key is the one
 * that must have signed. The header is parsed strictly: one spelling per proof.
 */
export const PROOF_HEADER = 'trustlink-proof';
/** Longest header accepted (a certificate of a few KiB fits; Node's default limit is 16 KiB). */
export const PROOF_HEADER_MAX_LENGTH = 8192;

export type ProofCredential = { type: 'spki'; der: Buffer } | { type: 'cert'; der: Buffer };

export interface ProofHeader {
  credential: ProofCredential;
  nonce: string;
  signature: Buffer;
}

const NONCE = /^[A-Za-z0-9_-]{1,256}$/;

/** Writes the header value. */
export function formatProofHeader(header: {
  credential: { type: 'spki' | 'cert'; der: Uint8Array };
  nonce: string;
  signature: Uint8Array;
}): string {
  if (!NONCE.test(header.nonce)) throw new RangeError('nonce must be base64url (at most 256)');
  if (header.credential.der.length === 0 || header.signature.length === 0) {
    throw new RangeError('credential and signature must not be empty');
  }
  const value = `${header.credential.type}=${toBase64url(header.credential.der)}; nonce=${header.nonce}; sig=${toBase64url(header.signature)}`;
  if (value.length > PROOF_HEADER_MAX_LENGTH) throw new RangeError('proof header too long');
  return value;
}

/** Reads the header value strictly; the detail says what is wrong, for the audit log. */
export function parseProofHeader(value: string): Result<ProofHeader, 'malformed-header'> {
  if (value.length > PROOF_HEADER_MAX_LENGTH)
    return fail('malformed-header', 'proof header too long');
  const fields = value.split('; ');
  if (fields.length !== 3) {
    return fail('malformed-header', 'proof header must have three fields separated by "; "');
  }
  const [first, second, third] = fields.map((f) => {
    const eq = f.indexOf('=');
    return eq < 0 ? { name: f, value: '' } : { name: f.slice(0, eq), value: f.slice(eq + 1) };
  }) as [
    { name: string; value: string },
    { name: string; value: string },
    { name: string; value: string },
  ];
  if (first.name !== 'spki' && first.name !== 'cert') {
    return fail('malformed-header', 'first field must be spki=... or cert=...');
  }
  if (second.name !== 'nonce') return fail('malformed-header', 'second field must be nonce=...');
  if (third.name !== 'sig') return fail('malformed-header', 'third field must be sig=...');
  const der = first.value ? fromBase64url(first.value) : undefined;
  if (!der) return fail('malformed-header', `${first.name} is not canonical base64url`);
  if (!NONCE.test(second.value)) return fail('malformed-header', 'nonce is not base64url');
  const signature = third.value ? fromBase64url(third.value) : undefined;
  if (!signature) return fail('malformed-header', 'sig is not canonical base64url');
  return {
    ok: true,
    credential: { type: first.name, der },
    nonce: second.value,
    signature,
  };
}
