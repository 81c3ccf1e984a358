import { createHash, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  p256Variants,
  rsaVariants,
  compressPoint,
  ecPoint,
  ecSpki,
  OIDS,
} from '../test-helpers/spki-variants.js';
import { testKey } from '../test-helpers/test-keys.js';
import { TAG, encodeTlv } from '../encoding/der.js';
import { DEVICE_ID_PATTERN, deviceIdFromSpki, isDeviceId, keyTypeOfSpki } from './device-id.js';
import { KEY_TYPES } from './key-types.js';

const reasonOf = (r: { ok: boolean; reason?: string }) => (r.ok ? 'ok' : r.reason);

describe('deviceIdFromSpki', () => {
  it.each(KEY_TYPES)('ok/%s: SHA-256 of the SPKI as Node exports it', (keyType) => {
    const { spki, privateKey } = testKey(`device-${keyType}`);
    // The canonical form is what OpenSSL writes for a named-curve / rsaEncryption key.
    expect(createPublicKey(privateKey).export({ type: 'spki', format: 'der' })).toEqual(spki);
    const r = deviceIdFromSpki(spki);
    expect(r).toEqual({
      ok: true,
      keyType,
      deviceId: createHash('sha256').update(spki).digest('hex'),
    });
    expect(r.ok && DEVICE_ID_PATTERN.test(r.deviceId)).toBe(true);
    expect(keyTypeOfSpki(spki)).toBe(keyType);
  });

  it('ok/accepts a view into a larger buffer', () => {
    const { spki } = testKey('device-P-256');
    const padded = Buffer.concat([Buffer.from([9, 9]), spki, Buffer.from([9])]);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 2, spki.length);
    expect(deviceIdFromSpki(view)).toEqual(deviceIdFromSpki(spki));
  });

  describe.each([
    ['P-256', p256Variants(testKey('device-P-256').spki)],
    ['RSA-2048', rsaVariants(testKey('device-RSA-2048').spki)],
    ['RSA-3072', rsaVariants(testKey('device-RSA-3072').spki)],
  ])('%s encodings', (_type, variants) => {
    it.each(variants)('fail/$name', ({ spki, reason }) => {
      expect(reasonOf(deviceIdFromSpki(spki))).toBe(reason);
      expect(keyTypeOfSpki(spki)).toBeUndefined();
    });
  });

  it('fail/P-384 compressed point', () => {
    const point = ecPoint(testKey('device-P-384').spki);
    const spki = ecSpki(encodeTlv(TAG.oid, OIDS.p384), compressPoint(point, 'secp384r1'));
    expect(reasonOf(deviceIdFromSpki(spki))).toBe('compressed-point');
  });

  it.each([
    ['fail/secp256k1', 'other-secp256k1', 'unsupported-curve'],
    ['fail/P-521', 'other-P-521', 'unsupported-curve'],
    ['fail/RSA-1024', 'other-RSA-1024', 'unsupported-key-size'],
    ['fail/RSA-4096', 'other-RSA-4096', 'unsupported-key-size'],
    ['fail/Ed25519', 'other-Ed25519', 'unsupported-algorithm'],
    ['fail/RSASSA-PSS key', 'other-RSA-PSS', 'unsupported-algorithm'],
  ])('%s', (_name, key, reason) => {
    const r = deviceIdFromSpki(testKey(key).spki);
    expect(reasonOf(r)).toBe(reason);
    expect(r.ok ? '' : r.detail).not.toBe('');
  });

  it.each([
    ['fail/not a SEQUENCE', Buffer.from('0500', 'hex'), 'unexpected-tag'],
    ['fail/empty', Buffer.alloc(0), 'truncated'],
    [
      'fail/one field',
      encodeTlv(TAG.sequence, encodeTlv(TAG.sequence, encodeTlv(TAG.oid, OIDS.ecPublicKey))),
      'malformed',
    ],
    [
      'fail/algorithm is not an OID',
      encodeTlv(
        TAG.sequence,
        encodeTlv(TAG.sequence, encodeTlv(TAG.null)),
        encodeTlv(TAG.bitString, Buffer.from([0])),
      ),
      'malformed',
    ],
    [
      'fail/key is an OCTET STRING',
      encodeTlv(
        TAG.sequence,
        encodeTlv(
          TAG.sequence,
          encodeTlv(TAG.oid, OIDS.ecPublicKey),
          encodeTlv(TAG.oid, OIDS.p256),
        ),
        encodeTlv(TAG.octetString, ecPoint(testKey('device-P-256').spki)),
      ),
      'malformed',
    ],
  ])('%s', (_name, spki, reason) => {
    expect(reasonOf(deviceIdFromSpki(spki))).toBe(reason);
  });

  it('ok/one key, one ID: every other encoding of the same key is refused', () => {
    const { spki } = testKey('device-P-256');
    const accepted = [spki, ...p256Variants(spki).map((v) => v.spki)].filter(
      (s) => deviceIdFromSpki(s).ok,
    );
    expect(accepted).toEqual([spki]);
  });

  // The server hands in the key OpenSSL already decoded from a bootstrap certificate.
  it('ok/with the key already decoded: the same ID, and every other encoding still refused', () => {
    const { spki } = testKey('device-P-256');
    const decoded = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(deviceIdFromSpki(spki, decoded)).toEqual(deviceIdFromSpki(spki));
    const accepted = [spki, ...p256Variants(spki).map((v) => v.spki)].filter(
      (s) => deviceIdFromSpki(s, decoded).ok,
    );
    expect(accepted).toEqual([spki]);
  });

  it('fail/with a decoded key of another curve: the crypto library reads it differently', () => {
    const { spki } = testKey('device-P-256');
    const other = testKey('device-P-384').spki;
    const decoded = createPublicKey({ key: other, format: 'der', type: 'spki' });
    expect(reasonOf(deviceIdFromSpki(spki, decoded))).toBe('not-canonical');
  });
});

describe('isDeviceId', () => {
  it.each([
    ['ok/64 lowercase hex', 'a'.repeat(64), true],
    ['fail/upper case', 'A'.repeat(64), false],
    ['fail/63 characters', 'a'.repeat(63), false],
    ['fail/not hex', 'g'.repeat(64), false],
  ])('%s', (_name, value, ok) => {
    expect(isDeviceId(value)).toBe(ok);
  });
});
