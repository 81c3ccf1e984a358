/**
 * Manifest vectors: JWS strings signed with fixed keys (ES256, ES384, PS256), the device's
 * expectations, and the result verifyManifest must give ("ok" or a refusal reason).
 */
import { createHash } from 'node:crypto';
import { nodeKeySigner } from '../../src/identity/signatures.js';
import { signJws } from '../../src/jws/jws-compact.js';
import { MANIFEST_JWS_TYPE, type ManifestPayload } from '../../src/manifest/manifest-payload.js';
import { signManifest } from '../../src/manifest/manifest-sign.js';
import { signTimeStatement } from '../../src/time/time-statement.js';
import { deviceIdFromSpki } from '../../src/identity/device-id.js';
import { type StoredKey, privateKeyOf } from './vector-keys.js';

const INSTANCE = '3f2b8c1e-6a4d-4e59-9b0a-2c7d1e5f8a90';
const BATCH = '9d4e2a17-0b3c-4f6e-8a15-7c2d9e0f1b34';

export async function manifestVectors(keys: Record<string, StoredKey>) {
  const deviceId = (
    deviceIdFromSpki(Buffer.from(keys['device-P-256']!.spkiHex, 'hex')) as { deviceId: string }
  ).deviceId;
  const base: ManifestPayload = {
    v: 1,
    instanceId: INSTANCE,
    deviceId,
    firmwareId: '5b7e0c42-1d9a-4b36-a8f2-0e6c3d4b9a71',
    name: 'gateway-firmware',
    version: '2.4.1',
    securityVersion: 7,
    hardware: { board: 'tl-gw-2', soc: 'imx8mm' },
    size: 1_048_576,
    sha256: createHash('sha256').update('trustlink test image').digest('hex'),
    format: 'raw',
    issuedAt: '2026-03-01T12:00:00.000Z',
    expiresAt: '2026-03-31T12:00:00.000Z',
  };
  const expected = {
    instanceId: INSTANCE,
    deviceId,
    batchId: BATCH,
    hardware: { board: 'tl-gw-2', soc: 'imx8mm', revision: 'c' },
    installedSecurityVersion: 7,
    now: '2026-03-10T00:00:00.000Z',
  };
  const signingKeys = {
    ES256: 'signing-P-256',
    ES384: 'signing-P-384',
    PS256: 'signing-RSA-3072',
  } as const;
  const cases = [];
  for (const [alg, keyName] of Object.entries(signingKeys)) {
    const kid = `${keyName}-kid`;
    const signer = { ...nodeKeySigner(privateKeyOf(keys[keyName]!)), kid };
    const sign = (p: Partial<ManifestPayload>) =>
      signManifest({ ...base, ...p } as ManifestPayload, signer);
    const good = await sign({});
    const [h, , s] = good.split('.');
    const otherPayload = (await sign({ version: '2.4.2' })).split('.')[1];
    const otherKeyName = alg === 'ES256' ? 'signing-P-384' : 'signing-P-256';
    const otherSigner = { ...nodeKeySigner(privateKeyOf(keys[otherKeyName]!)), kid };
    const noneHeader = Buffer.from(
      JSON.stringify({ alg: 'none', kid, typ: MANIFEST_JWS_TYPE }),
    ).toString('base64url');
    const { size: _size, ...withoutSize } = base;
    const list: {
      name: string;
      jws: string;
      expected?: Partial<typeof expected> & { kid?: string };
      result: string;
    }[] = [
      { name: 'ok/device manifest', jws: good, result: 'ok' },
      {
        name: 'ok/batch manifest',
        jws: await sign({ deviceId: undefined, batchId: BATCH }),
        result: 'ok',
      },
      { name: 'ok/higher securityVersion', jws: await sign({ securityVersion: 8 }), result: 'ok' },
      { name: 'ok/kid as expected', jws: good, expected: { kid }, result: 'ok' },
      { name: 'fail/payload swapped', jws: `${h}.${otherPayload}.${s}`, result: 'bad-signature' },
      { name: 'fail/expired', jws: good, expected: { now: base.expiresAt }, result: 'expired' },
      {
        name: 'fail/other instance',
        jws: await sign({ instanceId: 'other-instance' }),
        result: 'wrong-instance',
      },
      {
        name: 'fail/other device',
        jws: await sign({ deviceId: 'ab'.repeat(32) }),
        result: 'wrong-device',
      },
      {
        name: 'fail/other batch',
        jws: await sign({ deviceId: undefined, batchId: 'other-batch' }),
        result: 'wrong-batch',
      },
      { name: 'fail/rollback', jws: await sign({ securityVersion: 6 }), result: 'rollback' },
      {
        name: 'fail/hardware mismatch',
        jws: await sign({ hardware: { board: 'tl-gw-3' } }),
        result: 'hardware-mismatch',
      },
      {
        name: 'fail/hardware attribute the device lacks',
        jws: await sign({ hardware: { ram: '4g' } }),
        result: 'hardware-mismatch',
      },
      {
        name: 'fail/other kid expected',
        jws: good,
        expected: { kid: 'another-key' },
        result: 'wrong-kid',
      },
      {
        name: 'fail/alg of another key type',
        jws: await signManifest(base, otherSigner),
        result: 'alg-mismatch',
      },
      {
        name: 'fail/alg none',
        jws: `${noneHeader}.${good.split('.')[1]}.${s}`,
        result: 'bad-header',
      },
      {
        name: 'fail/time statement as manifest',
        jws: await signTimeStatement(
          { nonce: 'AAAAAAAAAAAAAAAAAAAAAA', time: new Date(expected.now) },
          signer,
        ),
        result: 'wrong-type',
      },
      {
        name: 'fail/payload without size',
        jws: await signJws(withoutSize, { kid, typ: MANIFEST_JWS_TYPE, signer }),
        result: 'bad-payload',
      },
      { name: 'fail/two parts', jws: good.split('.').slice(0, 2).join('.'), result: 'malformed' },
    ];
    for (const c of list)
      cases.push({
        ...c,
        name: `${c.name.split('/')[0]}/${alg} ${c.name.split('/')[1]}`,
        key: keyName,
        alg,
      });
  }
  cases.push({
    name: 'fail/RSA-2048 verification key',
    jws: cases[0]!.jws,
    key: 'device-RSA-2048',
    alg: 'ES256',
    result: 'unsupported-key',
  });
  const usedKeys = [...new Set(cases.map((c) => c.key))];
  return {
    description:
      'Manifest JWS vectors. Verify `jws` with the SPKI of `key` and `expected` (defaults, overridden per case); result is "ok" or the refusal reason of verifyManifest.',
    keys: Object.fromEntries(usedKeys.map((k) => [k, keys[k]])),
    expected,
    cases,
  };
}
