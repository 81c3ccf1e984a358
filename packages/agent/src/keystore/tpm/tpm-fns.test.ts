import { describe, expect, it } from 'vitest';
import {
  normaliseHandle,
  parseHandleList,
  parseObjectAttributes,
  signatureFromTss,
} from './tpm-fns.js';

describe('tpm fns', () => {
  it('ok/ECDSA TPMT_SIGNATURE becomes DER', () => {
    const r = Buffer.alloc(32, 0x81);
    const s = Buffer.alloc(32, 0x01);
    const tss = Buffer.concat([
      Buffer.from('0018000b0020', 'hex'),
      r,
      Buffer.from('0020', 'hex'),
      s,
    ]);
    const der = signatureFromTss(tss);
    expect(der.subarray(0, 5).toString('hex')).toBe('3045022100');
    expect(der.length).toBe(2 + 3 + 32 + 2 + 32);
  });

  it('ok/RSA-PSS TPMT_SIGNATURE gives the plain signature', () => {
    const sig = Buffer.alloc(256, 7);
    expect(
      signatureFromTss(Buffer.concat([Buffer.from('0016000b0100', 'hex'), sig])).equals(sig),
    ).toBe(true);
  });

  const bad: [string, string][] = [
    ['fail/truncated', '0018000b0020aa'],
    ['fail/unknown algorithm', '0099000b0000'],
  ];
  for (const [name, hex] of bad) {
    it(name, () => expect(() => signatureFromTss(Buffer.from(hex, 'hex'))).toThrow());
  }

  it('ok/persistent handles from tpm2_getcap', () => {
    expect(parseHandleList('- 0x81000001\n- 0x81010002\n')).toEqual(['0x81000001', '0x81010002']);
    expect(parseHandleList('')).toEqual([]);
  });

  it('ok/attributes from tpm2_readpublic', () => {
    const out =
      'name-alg:\n  value: sha256\nattributes:\n  value: fixedtpm|fixedparent|sign\n  raw: 0x40042\n';
    expect(parseObjectAttributes(out)).toEqual(['fixedtpm', 'fixedparent', 'sign']);
  });

  it('ok/handles compare in one form', () => {
    expect(normaliseHandle('0x81010002')).toBe('0x81010002');
    expect(normaliseHandle('0X8101000A')).toBe('0x8101000a');
  });
});
