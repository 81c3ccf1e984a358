import { checkSignerOutput } from '../identity/signatures.js';
import { type Signer, schemeOfKeyType } from '../identity/key-types.js';
import { formatProofHeader } from './proof-header.js';
import { type ProofPurpose, type ProofRequest, buildProofInput } from './proof-input.js';

/**
 * Signs a proof input with the identity key through the injected signer (a TPM, a secure element,
 * or a Node key in tests), with the one scheme of its key type. Returns the signature as it goes
 * on the wire (DER for ECDSA, raw PSS for RSA).
 */
export async function signProof(input: Uint8Array, signer: Signer): Promise<Buffer> {
  const scheme = schemeOfKeyType(signer.keyType);
  const signature = await signer.sign(input, scheme);
  checkSignerOutput(signer.keyType, scheme, signature);
  return Buffer.from(signature);
}

/**
 * Everything a device does to prove possession for one request: builds the input, signs it and
 * writes the `Trustlink-Proof` header value. `credential` is the identity key's SPKI (before
 * enrolment) or a certificate for it.
 */
export async function createProofHeader(args: {
  credential: { type: 'spki' | 'cert'; der: Uint8Array };
  purpose: ProofPurpose;
  nonce: string;
  request: ProofRequest;
  signer: Signer;
}): Promise<string> {
  const input = buildProofInput({ ...args.request, purpose: args.purpose, nonce: args.nonce });
  const signature = await signProof(input, args.signer);
  return formatProofHeader({ credential: args.credential, nonce: args.nonce, signature });
}
