import { createHash, generateKeyPairSync, publicDecrypt, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ecdsaDerFromRS,
  ecdsaRawToDer,
  pkcs1DigestInfo,
  schemeFitsKeyType,
  verifySignature,
} from './signature-fns.js';
import type { KeyType, SignatureScheme } from './key-store-types.js';

describe('signature fns', () => {
  it('ok/r||s from node converts to the DER node makes for the same signature', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    for (let i = 0; i < 20; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = ecdsaRawToDer(raw);
      expect(verifySignature(spki, data, 'ecdsa-sha256', der)).toBe(true);
    }
  });

  const integers: [string, string, string, string][] = [
    ['ok/high bit set gets a leading zero', '80', '01', '3007020200800201' + '01'],
    ['ok/leading zeros are stripped', '0001', '0000', '30060201010201' + '00'],
  ];
  for (const [name, r, s, der] of integers) {
    it(name, () => {
      expect(ecdsaDerFromRS(Buffer.from(r, 'hex'), Buffer.from(s, 'hex')).toString('hex')).toBe(
        der,
      );
    });
  }

  it('fail/odd-length r||s', () => {
    expect(() => ecdsaRawToDer(Buffer.alloc(63))).toThrow(/odd length/);
  });

  it('ok/PKCS#1 DigestInfo is what node signs', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const data = Buffer.from('x');
    // Opening a PKCS#1 v1.5 signature with the public key yields the DigestInfo it signed.
    const recovered = publicDecrypt(publicKey, sign('sha256', data, privateKey));
    const digest = createHash('sha256').update(data).digest();
    expect(recovered.equals(pkcs1DigestInfo('sha256', digest))).toBe(true);
  });

  const fits: [KeyType, SignatureScheme, boolean][] = [
    ['P-256', 'ecdsa-sha256', true],
    ['P-256', 'ecdsa-sha384', false],
    ['P-384', 'ecdsa-sha384', true],
    ['P-384', 'ecdsa-sha256', false],
    ['RSA-2048', 'rsa-pss-sha256', true],
    ['RSA-3072', 'rsa-pkcs1-sha256', true],
    ['RSA-2048', 'ecdsa-sha256', false],
    ['P-256', 'rsa-pss-sha256', false],
  ];
  for (const [keyType, scheme, ok] of fits) {
    it(`${ok ? 'ok' : 'fail'}/${scheme} with ${keyType}`, () => {
      expect(schemeFitsKeyType(scheme, keyType)).toBe(ok);
    });
  }
});
