import { describe, expect, it } from 'vitest';
import { nodeKeySigner } from '../identity/signatures.js';
import { testKey } from '../test-helpers/test-keys.js';
import { type ManifestPayload } from './manifest-payload.js';
import { sampleManifest } from '../test-helpers/sample-manifest.js';
import { signManifest } from './manifest-sign.js';
import {
  type ManifestExpectation,
  checkImageAgainstManifest,
  verifyManifest,
} from './manifest-verify.js';

const key = testKey('signing-P-256');
const signer = { ...nodeKeySigner(key.privateKey), kid: 'sig-1' };
const sign = (change: Partial<ManifestPayload> = {}) =>
  signManifest({ ...sampleManifest, ...change } as ManifestPayload, signer);
const expected: ManifestExpectation = {
  instanceId: sampleManifest.instanceId,
  deviceId: sampleManifest.deviceId!,
  batchId: 'batch-1',
  hardware: { board: 'tl-gw-2', revision: 'c' },
  installedSecurityVersion: 7,
  now: new Date('2026-03-10T00:00:00.000Z'),
};
const verify = (jws: string, e: Partial<ManifestExpectation> = {}) =>
  verifyManifest(jws, { publicKeySpki: key.spki, expected: { ...expected, ...e } });

describe('verifyManifest', () => {
  it('ok/returns the manifest, kid and key type', async () => {
    expect(verify(await sign())).toEqual({
      ok: true,
      manifest: sampleManifest,
      kid: 'sig-1',
      keyType: 'P-256',
    });
  });

  it.each([
    ['ok/batch manifest for the device batch', { deviceId: undefined, batchId: 'batch-1' }, {}],
    ['ok/equal securityVersion (reinstall)', {}, { installedSecurityVersion: 7 }],
    ['ok/higher securityVersion', { securityVersion: 9 }, {}],
    [
      'ok/one millisecond before expiry',
      {},
      { now: new Date(Date.parse(sampleManifest.expiresAt) - 1) },
    ],
    ['ok/expected kid', {}, { kid: 'sig-1' }],
  ] as [string, Partial<ManifestPayload>, Partial<ManifestExpectation>][])(
    '%s',
    async (_name, change, e) => {
      expect(verify(await sign(change), e).ok).toBe(true);
    },
  );

  it('ok/PS256 with RSA-3072', async () => {
    const rsa = testKey('signing-RSA-3072');
    const jws = await signManifest(sampleManifest, {
      ...nodeKeySigner(rsa.privateKey),
      kid: 'sig-2',
    });
    expect(verifyManifest(jws, { publicKeySpki: rsa.spki, expected })).toMatchObject({
      ok: true,
      keyType: 'RSA-3072',
    });
  });

  it.each([
    ['fail/expired (anti-freeze)', {}, { now: new Date(sampleManifest.expiresAt) }, 'expired'],
    ['fail/other instance', { instanceId: 'other' }, {}, 'wrong-instance'],
    ['fail/other device', { deviceId: 'c'.repeat(64) }, {}, 'wrong-device'],
    ['fail/other batch', { deviceId: undefined, batchId: 'batch-2' }, {}, 'wrong-batch'],
    [
      'fail/batch manifest for a device without batch',
      { deviceId: undefined, batchId: 'batch-1' },
      { batchId: undefined },
      'wrong-batch',
    ],
    ['fail/lower securityVersion (rollback)', { securityVersion: 6 }, {}, 'rollback'],
    ['fail/hardware value differs', { hardware: { board: 'tl-gw-3' } }, {}, 'hardware-mismatch'],
    [
      'fail/hardware attribute the device lacks',
      { hardware: { ram: '4g' } },
      {},
      'hardware-mismatch',
    ],
    [
      'fail/inherited property is not an attribute',
      { hardware: { toString: 'x' } },
      {},
      'hardware-mismatch',
    ],
    ['fail/other kid expected', {}, { kid: 'sig-9' }, 'wrong-kid'],
  ] as [string, Partial<ManifestPayload>, Partial<ManifestExpectation>, string][])(
    '%s',
    async (_name, change, e, reason) => {
      const r = verify(await sign(change), e);
      expect(r).toMatchObject({ ok: false, reason });
      expect(r.ok ? '' : r.detail).not.toBe('');
    },
  );

  it('fail/signed with another key', async () => {
    const other = { ...nodeKeySigner(testKey('device-P-256').privateKey), kid: 'sig-1' };
    expect(verify(await signManifest(sampleManifest, other))).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });
});

describe('signManifest', () => {
  it('fail/refuses a payload a device could not parse', async () => {
    await expect(sign({ batchId: 'batch-1' })).rejects.toThrow(
      /exactly one of deviceId and batchId/,
    );
  });
});

describe('checkImageAgainstManifest', () => {
  it.each([
    ['ok/same size and digest', { size: 1024, sha256: 'b'.repeat(64) }, 'ok'],
    ['ok/digest in upper case', { size: 1024, sha256: 'B'.repeat(64) }, 'ok'],
    ['fail/other size', { size: 1023, sha256: 'b'.repeat(64) }, 'size-mismatch'],
    ['fail/other digest', { size: 1024, sha256: 'c'.repeat(64) }, 'digest-mismatch'],
  ])('%s', (_name, image, result) => {
    const r = checkImageAgainstManifest(sampleManifest, image);
    expect(r.ok ? 'ok' : r.reason).toBe(result);
  });
});
