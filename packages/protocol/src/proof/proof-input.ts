import { createHash } from 'node:crypto';

/**
 * The bytes a device signs to prove it holds its identity key for one request:
 *
 *   input = field("trustlink-proof-v1") | field(purpose) | field(host) | field(method)
 *         | field(path) | field(nonce) | field(SHA-256(raw body))
 *   field(x) = uint32-big-endian(byteLength(x)) | x          (text fields are ASCII)
 *
 * Length prefixes make the split unambiguous (no field can borrow bytes from its neighbour), the
 * context string keeps these signatures apart from any other use of the key, and binding host,
 * method, path and body means a proof cannot be moved to another instance, endpoint or payload.
 */
export const PROOF_CONTEXT = 'trustlink-proof-v1';

/**
 * What a proof is for; the server states the purpose it expects for each endpoint. `register`
 * is a production-line station registering a device ID with a manufacturing credential.
 */
export const PROOF_PURPOSES = ['enrol', 'session', 'renew', 'register'] as const;
export type ProofPurpose = (typeof PROOF_PURPOSES)[number];

/** The request a proof is bound to. */
export interface ProofRequest {
  /** Host name the device connected to (TLS SNI / Host), without port; compared lowercased. */
  host: string;
  /** HTTP method, upper case. */
  method: string;
  /** Request target as sent: path plus query, if any. */
  path: string;
  /** The raw body bytes exactly as sent (the JSON text, not a re-serialisation). */
  body: Uint8Array;
}

export interface ProofFields extends ProofRequest {
  purpose: ProofPurpose;
  nonce: string;
}

/** Thrown by {@link buildProofInput} for a field outside the protocol's syntax. */
export class ProofInputError extends RangeError {
  override name = 'ProofInputError';
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])$`);
const METHOD = /^[A-Z]{1,16}$/;
const PATH = /^\/[\x21-\x7e]{0,2047}$/;
const NONCE = /^[A-Za-z0-9_-]{1,256}$/;

/** Normalises a host name for the proof: lower case; a port or trailing dot is an error. */
export function normaliseProofHost(host: string): string {
  const h = host.toLowerCase();
  if (h.length > 253 || !HOST.test(h)) {
    throw new ProofInputError(`host "${host}" is not a host name without port`);
  }
  return h;
}

/** Builds the exact bytes to sign (and to verify) for a proof. Throws on malformed fields. */
export function buildProofInput(fields: ProofFields): Buffer {
  if (!(PROOF_PURPOSES as readonly string[]).includes(fields.purpose)) {
    throw new ProofInputError(`unknown proof purpose "${fields.purpose}"`);
  }
  const host = normaliseProofHost(fields.host);
  if (!METHOD.test(fields.method))
    throw new ProofInputError(`method "${fields.method}" must be upper case`);
  if (!PATH.test(fields.path))
    throw new ProofInputError('path must start with "/" and be visible ASCII (at most 2048)');
  if (!NONCE.test(fields.nonce)) throw new ProofInputError('nonce must be base64url (at most 256)');
  const digest = createHash('sha256').update(fields.body).digest();
  const parts = [PROOF_CONTEXT, fields.purpose, host, fields.method, fields.path, fields.nonce].map(
    (s) => Buffer.from(s, 'ascii'),
  );
  return Buffer.concat([...parts, digest].flatMap((p) => [u32(p.length), p]));
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
