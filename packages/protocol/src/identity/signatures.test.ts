import { constants, createPublicKey, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { testKey } from '../test-helpers/test-keys.js';
import { KEY_TYPES, schemeOfKeyType } from './key-types.js';
import {
  checkSignerOutput,
  ecdsaDerToRaw,
  ecdsaRawToDer,
  keyTypeOfKeyObject,
  nodeKeySigner,
  verifySignature,
} from './signatures.js';

const data = Buffer.from('trustlink signature test');

describe('nodeKeySigner + verifySignature', () => {
  it.each(KEY_TYPES)('ok/%s signs with its scheme and verifies', async (keyType) => {
    const { privateKey } = testKey(`device-${keyType}`);
    const pub = createPublicKey(privateKey);
    const signer = nodeKeySigner(privateKey);
    expect(signer.keyType).toBe(keyType);
    const scheme = schemeOfKeyType(keyType);
    const sig = await signer.sign(data, scheme);
    expect(() => checkSignerOutput(keyType, scheme, sig)).not.toThrow();
    expect(verifySignature(pub, keyType, scheme, data, sig)).toBe(true);
    expect(verifySignature(pub, keyType, scheme, Buffer.from('other data'), sig)).toBe(false);
  });

  it('fail/refuses keys of other types', () => {
    expect(() => nodeKeySigner(testKey('other-Ed25519').privateKey)).toThrow(/not one of/);
    expect(keyTypeOfKeyObject(testKey('other-P-521').privateKey)).toBeUndefined();
    expect(keyTypeOfKeyObject(testKey('other-RSA-1024').privateKey)).toBeUndefined();
  });
});

describe('verifySignature refusals', () => {
  const rsa = testKey('device-RSA-2048');
  const rsaPub = createPublicKey(rsa.privateKey);
  const ec = testKey('device-P-256');
  const ecPub = createPublicKey(ec.privateKey);

  it('fail/RSA PKCS#1 v1.5 signature', () => {
    const sig = sign('sha256', data, rsa.privateKey);
    expect(verifySignature(rsaPub, 'RSA-2048', 'rsa-pss-sha256', data, sig)).toBe(false);
  });

  it('fail/RSA-PSS with another salt length', () => {
    const sig = sign('sha256', data, {
      key: rsa.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 20,
    });
    expect(verifySignature(rsaPub, 'RSA-2048', 'rsa-pss-sha256', data, sig)).toBe(false);
  });

  it('fail/RSA signature of the wrong length', () => {
    expect(verifySignature(rsaPub, 'RSA-2048', 'rsa-pss-sha256', data, Buffer.alloc(255))).toBe(
      false,
    );
  });

  it('fail/ECDSA over SHA-384 where P-256 means SHA-256', () => {
    const sig = sign('sha384', data, ec.privateKey);
    expect(verifySignature(ecPub, 'P-256', 'ecdsa-sha256', data, sig)).toBe(false);
  });

  it('fail/ECDSA DER with a BER length', () => {
    const der = sign('sha256', data, ec.privateKey);
    const ber = Buffer.concat([Buffer.from([0x30, 0x81]), der.subarray(1)]);
    expect(verifySignature(ecPub, 'P-256', 'ecdsa-sha256', data, ber)).toBe(false);
  });

  it('fail/ECDSA r||s where DER is due, and the reverse', () => {
    const raw = sign('sha256', data, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    expect(verifySignature(ecPub, 'P-256', 'ecdsa-sha256', data, raw, 'der')).toBe(false);
    expect(verifySignature(ecPub, 'P-256', 'ecdsa-sha256', data, raw, 'raw')).toBe(true);
    expect(verifySignature(ecPub, 'P-256', 'ecdsa-sha256', data, raw.subarray(1), 'raw')).toBe(
      false,
    );
    expect(verifySignature(ecPub, 'P-256', 'ecdsa-sha256', data, ecdsaRawToDer(raw), 'der')).toBe(
      true,
    );
  });
});

describe('ECDSA encodings', () => {
  it.each([
    [
      'ok/small values are left-padded',
      '3006020101020102',
      'P-256',
      `${'00'.repeat(31)}01${'00'.repeat(31)}02`,
    ],
    [
      'ok/high bit values carry a sign byte in DER',
      `3046022100${'ff'.repeat(32)}022100${'80'.repeat(32)}`,
      'P-256',
      `${'ff'.repeat(32)}${'80'.repeat(32)}`,
    ],
  ] as const)('%s', (_name, der, keyType, raw) => {
    expect(ecdsaDerToRaw(Buffer.from(der, 'hex'), keyType).toString('hex')).toBe(raw);
    expect(ecdsaRawToDer(Buffer.from(raw, 'hex')).toString('hex')).toBe(der);
  });

  it.each([
    ['fail/zero r', '3006020100020102'],
    ['fail/value longer than the curve', `3047022200${'ff'.repeat(33)}020101`],
    ['fail/three integers', '3009020101020101020101'],
    ['fail/trailing bytes', '300602010102010200'],
  ])('%s', (_name, der) => {
    expect(() => ecdsaDerToRaw(Buffer.from(der, 'hex'), 'P-256')).toThrow();
  });

  it('fail/odd-length r||s', () => {
    expect(() => ecdsaRawToDer(Buffer.alloc(63))).toThrow(RangeError);
  });
});

describe('checkSignerOutput', () => {
  it('fail/r||s from an ECDSA signer', () => {
    expect(() => checkSignerOutput('P-256', 'ecdsa-sha256', Buffer.alloc(64, 1))).toThrow(
      /ecdsaRawToDer/,
    );
  });
  it('fail/short RSA signature', () => {
    expect(() => checkSignerOutput('RSA-3072', 'rsa-pss-sha256', Buffer.alloc(256))).toThrow(/384/);
  });
});
