import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openssl, scratch } from '../test-helpers/test-openssl.js';
import {
  base64Lines,
  basicPassword,
  certsOnlyPkcs7,
  csrAttrs,
  decodeBase64Body,
} from './est-fns.js';

describe('EST encodings', () => {
  it('ok/a certs-only PKCS#7 that openssl reads, certificates in DER order', () => {
    const s = scratch();
    try {
      const make = (cn: string) => {
        const key = s.file(`${cn}.key`, '');
        const pem = s.file(`${cn}.pem`, '');
        expect(
          openssl([
            'req',
            '-x509',
            '-newkey',
            'ec',
            '-pkeyopt',
            'ec_paramgen_curve:P-256',
            '-nodes',
            '-keyout',
            key,
            '-subj',
            `/CN=${cn}`,
            '-days',
            '1',
            '-out',
            pem,
            '-outform',
            'DER',
          ]).status,
        ).toBe(0);
        return pem;
      };
      const ders = ['one', 'two'].map((cn) => make(cn));
      const p7 = s.file('certs.p7', certsOnlyPkcs7(ders.map((p) => readFileSync(p))), true);
      const out = openssl(['pkcs7', '-inform', 'DER', '-in', p7, '-print_certs', '-noout']);
      expect(out.status).toBe(0);
      expect(out.out).toMatch(/subject=CN = one/);
      expect(out.out).toMatch(/subject=CN = two/);
    } finally {
      s.remove();
    }
  });
  it.each([
    ['ok/plain base64', 'AAEC', [0, 1, 2]],
    ['ok/with line breaks', 'AA\r\nEC\n', [0, 1, 2]],
    [
      'ok/PEM armour ignored',
      '-----BEGIN CERTIFICATE REQUEST-----\nAAEC\n-----END CERTIFICATE REQUEST-----\n',
      [0, 1, 2],
    ],
    ['fail/not base64', 'AA!C', undefined],
    ['fail/empty', '  ', undefined],
    ['fail/bad length', 'AAE', undefined],
  ])('%s', (_n, text, bytes) => {
    const r = decodeBase64Body(text);
    expect(r === undefined ? undefined : [...r]).toEqual(bytes);
  });
  it.each([
    ['ok/user and token', `Basic ${Buffer.from('device:0123abcd').toString('base64')}`, '0123abcd'],
    ['ok/no user', `Basic ${Buffer.from(':tok').toString('base64')}`, 'tok'],
    ['fail/bearer', 'Bearer abc', undefined],
    ['fail/no colon', `Basic ${Buffer.from('tok').toString('base64')}`, undefined],
    ['fail/absent', undefined, undefined],
  ])('%s', (_n, header, password) => {
    expect(basicPassword(header)).toBe(password);
  });
  it('ok/base64 in lines of 64', () => {
    expect(base64Lines(Buffer.alloc(60))).toBe(`${'A'.repeat(64)}\n${'A'.repeat(16)}\n`);
  });
  it('ok/CSR attributes openssl can parse', () => {
    const out = openssl(['asn1parse', '-inform', 'DER'], csrAttrs(['P-256', 'RSA-2048']));
    expect(out.status).toBe(0);
    expect(out.out).toMatch(/prime256v1/);
    expect(out.out).toMatch(/ecdsa-with-SHA256/);
    expect(out.out).toMatch(/sha256WithRSAEncryption/);
  });
});
