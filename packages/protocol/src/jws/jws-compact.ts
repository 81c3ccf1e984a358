import { fromBase64url, toBase64url } from '../encoding/base64url.js';
import { type KeyType, type Signer, schemeOfKeyType } from '../identity/key-types.js';
import { ecdsaDerToRaw, verifySignature } from '../identity/signatures.js';
import { parseCanonicalSpki } from '../identity/spki-canonical.js';
import { type Result, fail } from '../result.js';

/**
 * JWS compact serialisation (RFC 7515) as this protocol uses it: a protected header of exactly
 * `{ alg, kid, typ }`, a JSON payload, one signature. The algorithm is a function of the
 * verifier's KEY (ES256 for P-256, ES384 for P-384, PS256 for RSA-3072); the header's `alg` must
 * agree with it and is never used to choose (no "none", no HMAC-with-a-public-key confusion).
 * `typ` names the document kind so a signed time statement can never pass as a manifest.
 */
export type JwsAlg = 'ES256' | 'ES384' | 'PS256';

export interface JwsHeader {
  alg: JwsAlg;
  kid: string;
  typ: string;
}

export type JwsFailure =
  | 'malformed'
  | 'bad-header'
  | 'unsupported-key'
  | 'alg-mismatch'
  | 'wrong-type'
  | 'wrong-kid'
  | 'bad-signature'
  | 'bad-payload';

/** Largest JWS accepted; manifests and time statements are a few hundred bytes. */
export const JWS_MAX_LENGTH = 16 * 1024;
const KID = /^[\x21-\x7e]{1,128}$/;

const JWS_ALGS: Partial<Record<KeyType, JwsAlg>> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'RSA-3072': 'PS256',
};

/** The JWS algorithm of a signing key type; RSA-2048 is not accepted for platform signatures. */
export function jwsAlgOfKeyType(keyType: KeyType): JwsAlg | undefined {
  return JWS_ALGS[keyType];
}

/** Signs `payload` (serialised with JSON.stringify) through the injected signer. */
export async function signJws(
  payload: unknown,
  options: { kid: string; typ: string; signer: Signer },
): Promise<string> {
  const { signer, kid, typ } = options;
  const alg = jwsAlgOfKeyType(signer.keyType);
  if (!alg)
    throw new RangeError(`${signer.keyType} keys cannot sign JWS here (P-256, P-384, RSA-3072)`);
  if (!KID.test(kid)) throw new RangeError('kid must be 1 to 128 visible ASCII characters');
  const header: JwsHeader = { alg, kid, typ };
  const signingInput = `${b64json(header)}.${b64json(payload)}`;
  const scheme = schemeOfKeyType(signer.keyType);
  const sig = Buffer.from(await signer.sign(Buffer.from(signingInput, 'ascii'), scheme));
  // Key stores return DER for ECDSA; JOSE wants fixed-size r||s.
  const wire = scheme.startsWith('ecdsa') ? ecdsaDerToRaw(sig, signer.keyType) : sig;
  return `${signingInput}.${toBase64url(wire)}`;
}

/**
 * Verifies a compact JWS with the given public key and returns its parsed payload (still to be
 * schema-checked by the caller). `kid` is compared when the caller knows which key to expect.
 */
export function verifyJws(
  jws: string,
  options: { publicKeySpki: Uint8Array; typ: string; kid?: string },
): Result<{ header: JwsHeader; payload: unknown; keyType: KeyType }, JwsFailure> {
  if (jws.length > JWS_MAX_LENGTH) return fail('malformed', 'JWS too long');
  const parts = jws.split('.');
  if (parts.length !== 3) return fail('malformed', 'JWS compact form has three parts');
  const [h, p, s] = parts as [string, string, string];
  const headerBytes = fromBase64url(h);
  const payloadBytes = fromBase64url(p);
  const signature = fromBase64url(s);
  if (!headerBytes || !payloadBytes || !signature || !h || !p || !s) {
    return fail('malformed', 'JWS parts must be non-empty canonical base64url');
  }
  const header = parseJson(headerBytes);
  if (!isHeader(header)) return fail('bad-header', 'JWS header must be exactly { alg, kid, typ }');
  if (header.typ !== options.typ)
    return fail('wrong-type', `JWS typ is "${header.typ}", expected "${options.typ}"`);

  const key = parseCanonicalSpki(options.publicKeySpki);
  const alg = key.ok ? jwsAlgOfKeyType(key.keyType) : undefined;
  if (!key.ok || !alg)
    return fail('unsupported-key', 'the verification key is not an accepted signing key');
  if (header.alg !== alg)
    return fail(
      'alg-mismatch',
      `header alg ${header.alg} does not match the ${key.keyType} key (${alg})`,
    );
  if (options.kid !== undefined && header.kid !== options.kid) {
    return fail('wrong-kid', `signed with key "${header.kid}", expected "${options.kid}"`);
  }
  const signingInput = Buffer.from(`${h}.${p}`, 'ascii');
  if (
    !verifySignature(
      key.key,
      key.keyType,
      schemeOfKeyType(key.keyType),
      signingInput,
      signature,
      'raw',
    )
  ) {
    return fail('bad-signature', `${alg} signature does not verify`);
  }
  const payload = parseJson(payloadBytes);
  if (payload === undefined) return fail('bad-payload', 'JWS payload is not JSON');
  return { ok: true, header, payload, keyType: key.keyType };
}

function b64json(value: unknown): string {
  return toBase64url(Buffer.from(JSON.stringify(value), 'utf8'));
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

function isHeader(v: unknown): v is JwsHeader {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return (
    Object.keys(o).length === 3 &&
    (o.alg === 'ES256' || o.alg === 'ES384' || o.alg === 'PS256') &&
    typeof o.kid === 'string' &&
    KID.test(o.kid) &&
    typeof o.typ === 'string'
  );
}
