/**
 * Strict base64url (RFC 4648 §5, no padding). Node's decoder skips characters it does not know,
 * so two different strings could decode to the same bytes; on the wire each value must have
 * exactly one spelling, so we check the alphabet and that re-encoding gives the input back.
 */
const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Encodes bytes as unpadded base64url. */
export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Decodes canonical unpadded base64url, or returns undefined for any other spelling. */
export function fromBase64url(text: string): Buffer | undefined {
  if (!ALPHABET.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/** Pattern of a non-empty canonical base64url string (for schemas; the decoder checks the tail). */
export const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;
