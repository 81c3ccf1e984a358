import { type ChallengeFailure, checkChallenge } from '../challenge/challenge-nonce.js';
import { spkiFromCertificate } from '../identity/certificate-spki.js';
import { deviceIdOfCanonicalSpki } from '../identity/device-id.js';
import { type KeyType, KEY_TYPES, schemeOfKeyType } from '../identity/key-types.js';
import { verifySignature } from '../identity/signatures.js';
import { parseCanonicalSpki } from '../identity/spki-canonical.js';
import { type Result, fail } from '../result.js';
import { parseProofHeader } from './proof-header.js';
import {
  type ProofPurpose,
  type ProofRequest,
  ProofInputError,
  buildProofInput,
} from './proof-input.js';

/**
 * Why a proof was refused. The server answers `challenge-expired` with 409 (the device fetches a
 * new challenge) and everything else with a bare 401; the audit log keeps reason and detail.
 */
export type ProofFailure =
  | 'missing-header'
  | 'malformed-header'
  | `challenge-${ChallengeFailure}`
  | 'bad-certificate'
  | 'bad-key'
  | 'key-type-not-allowed'
  | 'bad-request'
  | 'bad-signature';

export interface VerifiedProof {
  deviceId: string;
  keyType: KeyType;
  /** Canonical DER SPKI of the identity key. */
  spki: Buffer;
  /** The certificate the proof named (`cert=`); its chain and validity are the server's to judge. */
  certificate?: Buffer;
  /** The nonce used: the server burns it until `nonceExpiresAt` (single use). */
  nonce: string;
  nonceExpiresAt: Date;
}

export interface ProofExpectation {
  purpose: ProofPurpose;
  /** The server's challenge MAC key (see issueChallenge). */
  challengeKey: Uint8Array;
  now: Date;
  /** Key types the policy accepts; all by default. */
  keyTypes?: readonly KeyType[];
}

/**
 * Verifies a `Trustlink-Proof` header against the request as the server received it: the nonce
 * must be one this server issued and still valid, the key canonical and of an allowed type, and
 * the signature made with that key's scheme over the input built from the expected purpose and
 * the request's host, method, path and raw body. Any other purpose, host, method, path or body
 * gives `bad-signature`. Burning the nonce on success is the caller's job.
 */
export function verifyProof(
  header: string | undefined,
  request: ProofRequest,
  expected: ProofExpectation,
): Result<VerifiedProof, ProofFailure> {
  if (header === undefined || header === '')
    return fail('missing-header', 'no Trustlink-Proof header');
  const parsed = parseProofHeader(header);
  if (!parsed.ok) return parsed;
  const challenge = checkChallenge(expected.challengeKey, parsed.nonce, expected.now);
  if (!challenge.ok) return fail(`challenge-${challenge.reason}`, challenge.detail);

  let certificate: Buffer | undefined;
  let spki = parsed.credential.der;
  if (parsed.credential.type === 'cert') {
    const fromCert = spkiFromCertificate(parsed.credential.der);
    if (!fromCert.ok) return fromCert;
    certificate = parsed.credential.der;
    spki = fromCert.spki;
  }
  const key = parseCanonicalSpki(spki);
  if (!key.ok) return fail('bad-key', `${key.reason}: ${key.detail}`);
  if (!(expected.keyTypes ?? KEY_TYPES).includes(key.keyType)) {
    return fail('key-type-not-allowed', `${key.keyType} keys are not accepted here`);
  }

  let input: Buffer;
  try {
    input = buildProofInput({ ...request, purpose: expected.purpose, nonce: parsed.nonce });
  } catch (e) {
    if (e instanceof ProofInputError) return fail('bad-request', e.message);
    throw e;
  }
  const scheme = schemeOfKeyType(key.keyType);
  if (!verifySignature(key.key, key.keyType, scheme, input, parsed.signature, 'der')) {
    return fail(
      'bad-signature',
      `signature does not verify as ${scheme} over the ${expected.purpose} proof input`,
    );
  }
  return {
    ok: true,
    deviceId: deviceIdOfCanonicalSpki(key.spki),
    keyType: key.keyType,
    spki: key.spki,
    ...(certificate ? { certificate } : {}),
    nonce: parsed.nonce,
    nonceExpiresAt: challenge.expiresAt,
  };
}
