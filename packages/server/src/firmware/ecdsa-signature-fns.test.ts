import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ecdsaDerToRs } from './ecdsa-signature-fns.js';

describe('ecdsaDerToRs', () => {
  it('ok/r || s verifies as IEEE P1363 with node:crypto', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    // Many signatures, so short r or s (leading zero bytes dropped in DER) come up too.
    for (let i = 0; i < 200; i++) {
      const data = Buffer.from(`message ${i}`);
      const der = sign('sha256', data, privateKey);
      const rs = ecdsaDerToRs(der, 32);
      expect(rs).toBeDefined();
      const p1363 = Buffer.concat([rs!.r, rs!.s]);
      expect(p1363).toHaveLength(64);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, p1363)).toBe(
        true,
      );
    }
  });

  it('ok/short integers are left-padded', () => {
    const rs = ecdsaDerToRs(Buffer.from('3006020101020102', 'hex'), 4);
    expect(rs).toEqual({ r: Buffer.from('00000001', 'hex'), s: Buffer.from('00000002', 'hex') });
  });

  const bad: Array<[string, string]> = [
    ['not a sequence', '3106020101020102'],
    ['sequence length wrong', '3007020101020102'],
    ['trailing bytes', '300602010102010200'],
    ['negative r', '3006020181020102'],
    ['r too long for the size', '30080203010203020102'],
    ['missing s', '3003020101'],
    ['empty integer', '30050200020102'],
    ['not an integer', '3006040101020102'],
  ];
  for (const [name, hex] of bad) {
    it(`fail/${name}`, () => {
      expect(ecdsaDerToRs(Buffer.from(hex, 'hex'), 2)).toBeUndefined();
    });
  }
});
