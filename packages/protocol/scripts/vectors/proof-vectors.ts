/**
 * Proof vectors per key type: the fixed key, the request, the exact signed-input bytes, a header
 * whose signature must VERIFY (ECDSA and PSS are randomized, so no byte-equal signature is
 * expected) and tampered variants with the reason verifyProof must give.
 */
import { buildProofInput } from '../../src/proof/proof-input.js';
import { formatProofHeader, parseProofHeader } from '../../src/proof/proof-header.js';
import { signProof } from '../../src/proof/proof-sign.js';
import { verifyProof } from '../../src/proof/proof-verify.js';
import { nodeKeySigner } from '../../src/identity/signatures.js';
import { deviceIdFromSpki } from '../../src/identity/device-id.js';
import { p256Variants, rsaVariants } from '../../src/test-helpers/spki-variants.js';
import { selfSignedCertificate } from '../../src/test-helpers/self-signed-cert.js';
import { CHALLENGE_KEY_HEX, ISSUED_AT, vectorChallenge } from './challenge-vectors.js';
import { type StoredKey, privateKeyOf } from './vector-keys.js';

const REQUEST = {
  host: 'devices.example.com',
  method: 'POST',
  path: '/device/v1/enrol',
  bodyText: '{"csr":"MIIBCjCBsQIBADBPMQswCQYDVQQGEwJERTEP"}',
};
const NOW = new Date(Date.parse(ISSUED_AT) + 30_000).toISOString();

type Tamper = {
  name: string;
  reason: string;
  purpose?: string;
  request?: Partial<typeof REQUEST>;
  header?: string;
  now?: string;
  keyTypes?: string[];
};

function tampered(header: string, keyType: string, keys: Record<string, StoredKey>): Tamper[] {
  const parsed = parseProofHeader(header);
  if (!parsed.ok) throw new Error(parsed.detail);
  const sig = Buffer.from(parsed.signature);
  sig[sig.length - 1]! ^= 0x01;
  const otherType = keyType === 'P-256' ? 'P-384' : 'P-256';
  const otherSpki = Buffer.from(keys[`device-${otherType}`]!.spkiHex, 'hex');
  const spki = Buffer.from(keys[`device-${keyType}`]!.spkiHex, 'hex');
  // One non-canonical encoding of the same key (the compressed point, the missing NULL).
  const variant =
    keyType === 'P-256'
      ? p256Variants(spki)[0]
      : keyType === 'RSA-2048'
        ? rsaVariants(spki)[0]
        : undefined;
  const withHeader = (h: Partial<{ der: Buffer; nonce: string; signature: Buffer }>) =>
    formatProofHeader({
      credential: { type: 'spki', der: h.der ?? parsed.credential.der },
      nonce: h.nonce ?? parsed.nonce,
      signature: h.signature ?? parsed.signature,
    });
  const forgedNonce = Buffer.from(parsed.nonce, 'base64url');
  forgedNonce[5]! ^= 0x01;
  const list: Tamper[] = [
    { name: 'fail/other purpose', purpose: 'session', reason: 'bad-signature' },
    { name: 'fail/other host', request: { host: 'other.example.com' }, reason: 'bad-signature' },
    { name: 'fail/other method', request: { method: 'PUT' }, reason: 'bad-signature' },
    { name: 'fail/other path', request: { path: '/device/v1/session' }, reason: 'bad-signature' },
    {
      name: 'fail/other body',
      request: { bodyText: `${REQUEST.bodyText} ` },
      reason: 'bad-signature',
    },
    {
      name: 'fail/flipped signature bit',
      header: withHeader({ signature: sig }),
      reason: 'bad-signature',
    },
    {
      name: 'fail/SPKI of another key',
      header: withHeader({ der: otherSpki }),
      reason: 'bad-signature',
    },
    {
      name: 'fail/forged nonce',
      header: withHeader({ nonce: forgedNonce.toString('base64url') }),
      reason: 'challenge-forged',
    },
    { name: 'fail/expired nonce', now: vectorChallenge().expiresAt, reason: 'challenge-expired' },
    { name: 'fail/key type not allowed', keyTypes: [otherType], reason: 'key-type-not-allowed' },
    {
      name: 'fail/header with extra space',
      header: header.replace('; ', ';  '),
      reason: 'malformed-header',
    },
  ];
  if (variant) {
    list.push({
      name: `fail/${variant.name}`,
      header: withHeader({ der: variant.spki }),
      reason: 'bad-key',
    });
  }
  return list;
}

export async function proofVectors(keys: Record<string, StoredKey>) {
  const { nonce } = vectorChallenge();
  const cases = [];
  for (const keyType of ['P-256', 'P-384', 'RSA-2048', 'RSA-3072']) {
    const stored = keys[`device-${keyType}`]!;
    const spki = Buffer.from(stored.spkiHex, 'hex');
    const privateKey = privateKeyOf(stored);
    for (const credentialType of keyType === 'P-256'
      ? (['spki', 'cert'] as const)
      : (['spki'] as const)) {
      const der = credentialType === 'spki' ? spki : selfSignedCertificate(spki, privateKey);
      const fields = {
        purpose: 'enrol' as const,
        ...REQUEST,
        body: Buffer.from(REQUEST.bodyText),
        nonce,
      };
      const input = buildProofInput(fields);
      const signature = await signProof(input, nodeKeySigner(privateKey));
      const header = formatProofHeader({
        credential: { type: credentialType, der },
        nonce,
        signature,
      });
      const id = deviceIdFromSpki(spki);
      const check = verifyProof(header, fields, {
        purpose: 'enrol',
        challengeKey: Buffer.from(CHALLENGE_KEY_HEX, 'hex'),
        now: new Date(NOW),
      });
      if (!check.ok || !id.ok || check.deviceId !== id.deviceId)
        throw new Error(`proof ${keyType} does not verify`);
      cases.push({
        name: `ok/${keyType} with ${credentialType}`,
        keyType,
        pkcs8Pem: stored.pkcs8Pem,
        spkiHex: stored.spkiHex,
        deviceId: id.deviceId,
        ...(credentialType === 'cert' ? { certificateHex: der.toString('hex') } : {}),
        purpose: 'enrol',
        request: REQUEST,
        nonce,
        signedInputHex: input.toString('hex'),
        header,
        tampered: credentialType === 'spki' ? tampered(header, keyType, keys) : [],
      });
    }
  }
  return {
    description:
      'Trustlink-Proof vectors. signedInputHex must be byte-exact; header must verify at `now` with challengeKeyHex; each tampered case changes one thing and must fail with `reason`. Bodies are UTF-8 text.',
    challengeKeyHex: CHALLENGE_KEY_HEX,
    now: NOW,
    cases,
  };
}
