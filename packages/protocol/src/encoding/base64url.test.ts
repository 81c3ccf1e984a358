import { describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from './base64url.js';

describe('base64url', () => {
  it.each([
    ['ok/empty', '', ''],
    ['ok/one byte', 'AA', '00'],
    ['ok/url alphabet', '-_8', 'fbff'],
  ])('%s', (_name, text, hex) => {
    expect(fromBase64url(text)?.toString('hex')).toBe(hex);
    expect(toBase64url(Buffer.from(hex, 'hex'))).toBe(text);
  });

  it.each([
    ['fail/padding', 'AA=='],
    ['fail/standard alphabet', '+/8'],
    ['fail/whitespace', 'AA AA'],
    ['fail/impossible length', 'AAAAA'],
    // "AB" and "AA" decode to the same byte: only the spelling with zero tail bits is canonical.
    ['fail/non-zero tail bits', 'AB'],
  ])('%s', (_name, text) => {
    expect(fromBase64url(text)).toBeUndefined();
  });

  it('ok/encodes a view into a larger buffer correctly', () => {
    const big = Buffer.from('00ff01', 'hex');
    expect(toBase64url(big.subarray(1, 2))).toBe('_w');
  });
});
