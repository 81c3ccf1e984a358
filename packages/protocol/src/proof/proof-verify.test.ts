import { sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueChallenge } from '../challenge/challenge-nonce.js';
import { deviceIdFromSpki } from '../identity/device-id.js';
import { KEY_TYPES, type KeyType } from '../identity/key-types.js';
import { nodeKeySigner } from '../identity/signatures.js';
import { selfSignedCertificate } from '../test-helpers/self-signed-cert.js';
import { p256Variants } from '../test-helpers/spki-variants.js';
import { testKey } from '../test-helpers/test-keys.js';
import { formatProofHeader, parseProofHeader } from './proof-header.js';
import { buildProofInput, type ProofRequest } from './proof-input.js';
import { createProofHeader, signProof } from './proof-sign.js';
import { type ProofExpectation, verifyProof } from './proof-verify.js';

const challengeKey = Buffer.alloc(32, 3);
const issuedAt = new Date('2026-03-01T12:00:00.000Z');
const now = new Date('2026-03-01T12:00:30.000Z');
const { nonce, expiresAt } = issueChallenge(challengeKey, issuedAt, 120);
const request: ProofRequest = {
  host: 'devices.example.com',
  method: 'POST',
  path: '/device/v1/session',
  body: Buffer.from('{}'),
};
const expected: ProofExpectation = { purpose: 'session', challengeKey, now };

async function proofFor(keyName: string, type: 'spki' | 'cert' = 'spki', n = nonce) {
  const { privateKey, spki } = testKey(keyName);
  const der = type === 'spki' ? spki : selfSignedCertificate(spki, privateKey);
  return createProofHeader({
    credential: { type, der },
    purpose: 'session',
    nonce: n,
    request,
    signer: nodeKeySigner(privateKey),
  });
}

function replace(
  header: string,
  change: { der?: Buffer; type?: 'spki' | 'cert'; signature?: Buffer },
) {
  const p = parseProofHeader(header);
  if (!p.ok) throw new Error(p.detail);
  return formatProofHeader({
    credential: { type: change.type ?? p.credential.type, der: change.der ?? p.credential.der },
    nonce: p.nonce,
    signature: change.signature ?? p.signature,
  });
}

describe('verifyProof', () => {
  it.each(KEY_TYPES)('ok/%s with spki', async (keyType: KeyType) => {
    const header = await proofFor(`device-${keyType}`);
    const id = deviceIdFromSpki(testKey(`device-${keyType}`).spki);
    expect(verifyProof(header, request, expected)).toEqual({
      ok: true,
      deviceId: id.ok && id.deviceId,
      keyType,
      spki: testKey(`device-${keyType}`).spki,
      nonce,
      nonceExpiresAt: new Date(expiresAt),
    });
  });

  it.each(['P-256', 'P-384', 'RSA-3072'])('ok/%s with a certificate', async (keyType) => {
    const header = await proofFor(`device-${keyType}`, 'cert');
    const r = verifyProof(header, request, expected);
    expect(r).toMatchObject({ ok: true, keyType });
    expect(r.ok && r.certificate?.length).toBeGreaterThan(100);
  });

  it('ok/host in another case', async () => {
    const header = await proofFor('device-P-256');
    expect(verifyProof(header, { ...request, host: 'DEVICES.example.com' }, expected).ok).toBe(
      true,
    );
  });

  it('ok/allowed key types narrow the choice', async () => {
    const header = await proofFor('device-RSA-2048');
    expect(verifyProof(header, request, { ...expected, keyTypes: ['RSA-2048'] }).ok).toBe(true);
  });

  describe('refusals', () => {
    const cases: [
      string,
      () => Promise<[string | undefined, ProofRequest, ProofExpectation]>,
      string,
    ][] = [
      ['fail/no header', async () => [undefined, request, expected], 'missing-header'],
      ['fail/empty header', async () => ['', request, expected], 'missing-header'],
      ['fail/malformed header', async () => ['spki=AAAA', request, expected], 'malformed-header'],
      [
        'fail/nonce not ours',
        async () => [await proofFor('device-P-256', 'spki', 'bm9uY2U'), request, expected],
        'challenge-malformed',
      ],
      [
        'fail/nonce from another key',
        async () => [
          await proofFor('device-P-256'),
          request,
          { ...expected, challengeKey: Buffer.alloc(32, 4) },
        ],
        'challenge-forged',
      ],
      [
        'fail/nonce expired',
        async () => [
          await proofFor('device-P-256'),
          request,
          { ...expected, now: new Date(expiresAt) },
        ],
        'challenge-expired',
      ],
      [
        'fail/certificate is garbage',
        async () => [
          replace(await proofFor('device-P-256'), {
            type: 'cert',
            der: Buffer.from('3000', 'hex'),
          }),
          request,
          expected,
        ],
        'bad-certificate',
      ],
      [
        'fail/non-canonical key in spki',
        async () => [
          replace(await proofFor('device-P-256'), {
            der: p256Variants(testKey('device-P-256').spki)[0]!.spki,
          }),
          request,
          expected,
        ],
        'bad-key',
      ],
      [
        'fail/non-canonical key in a certificate',
        async () => {
          const { spki, privateKey } = testKey('device-P-256');
          const cert = selfSignedCertificate(p256Variants(spki)[0]!.spki, privateKey);
          return [
            replace(await proofFor('device-P-256'), { type: 'cert', der: cert }),
            request,
            expected,
          ];
        },
        'bad-key',
      ],
      [
        'fail/key type not allowed',
        async () => [
          await proofFor('device-RSA-2048'),
          request,
          { ...expected, keyTypes: ['P-256', 'P-384'] },
        ],
        'key-type-not-allowed',
      ],
      [
        'fail/request host with port',
        async () => [
          await proofFor('device-P-256'),
          { ...request, host: 'devices.example.com:8444' },
          expected,
        ],
        'bad-request',
      ],
      [
        'fail/other purpose',
        async () => [await proofFor('device-P-256'), request, { ...expected, purpose: 'enrol' }],
        'bad-signature',
      ],
      [
        'fail/other host',
        async () => [
          await proofFor('device-P-256'),
          { ...request, host: 'evil.example.com' },
          expected,
        ],
        'bad-signature',
      ],
      [
        'fail/other method',
        async () => [await proofFor('device-P-256'), { ...request, method: 'PUT' }, expected],
        'bad-signature',
      ],
      [
        'fail/other path',
        async () => [
          await proofFor('device-P-256'),
          { ...request, path: '/device/v1/enrol' },
          expected,
        ],
        'bad-signature',
      ],
      [
        'fail/other body',
        async () => [
          await proofFor('device-P-256'),
          { ...request, body: Buffer.from('{ }') },
          expected,
        ],
        'bad-signature',
      ],
      [
        'fail/SPKI of another key',
        async () => [
          replace(await proofFor('device-P-256'), { der: testKey('signing-P-256').spki }),
          request,
          expected,
        ],
        'bad-signature',
      ],
      [
        'fail/certificate of another key',
        async () => {
          const other = testKey('signing-P-256');
          const cert = selfSignedCertificate(other.spki, other.privateKey);
          return [
            replace(await proofFor('device-P-256'), { type: 'cert', der: cert }),
            request,
            expected,
          ];
        },
        'bad-signature',
      ],
      [
        'fail/signature as r||s',
        async () => {
          const { privateKey } = testKey('device-P-256');
          const input = buildProofInput({ ...request, purpose: 'session', nonce });
          const raw = sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
          return [replace(await proofFor('device-P-256'), { signature: raw }), request, expected];
        },
        'bad-signature',
      ],
    ];
    it.each(cases)('%s', async (_name, make, reason) => {
      const [header, req, exp] = await make();
      const r = verifyProof(header, req, exp);
      expect(r).toMatchObject({ ok: false, reason });
      expect(r.ok ? '' : r.detail).not.toBe('');
    });
  });
});

describe('signProof', () => {
  it('fail/a signer that returns r||s is caught before sending', async () => {
    const signer = { keyType: 'P-256' as const, sign: async () => new Uint8Array(64).fill(1) };
    await expect(signProof(Buffer.from('x'), signer)).rejects.toThrow(/DER/);
  });

  it('ok/asks the signer for the scheme of its key type', async () => {
    const schemes: string[] = [];
    for (const keyType of KEY_TYPES) {
      const inner = nodeKeySigner(testKey(`device-${keyType}`).privateKey);
      await signProof(Buffer.from('x'), {
        keyType,
        sign: (d, s) => (schemes.push(s), inner.sign(d, s)),
      });
    }
    expect(schemes).toEqual(['ecdsa-sha256', 'ecdsa-sha384', 'rsa-pss-sha256', 'rsa-pss-sha256']);
  });
});
