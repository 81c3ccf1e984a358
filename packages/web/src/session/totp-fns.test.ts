import { describe, expect, it } from 'vitest';
import { groupSecret, qrImageSource } from './totp-fns';

describe('qrImageSource', () => {
  it('ok/data URL as given', () => {
    expect(qrImageSource('data:image/png;base64,AAAA')).toBe('data:image/png;base64,AAAA');
  });
  it('ok/SVG markup becomes an image data URL', () => {
    const src = qrImageSource('<svg xmlns="http://www.w3.org/2000/svg"></svg>');
    expect(src).toMatch(/^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
  });
  it('fail/HTML is not shown', () => expect(qrImageSource('<div>x</div>')).toBeNull());
  it('fail/a remote URL is not shown', () =>
    expect(qrImageSource('https://example.com/qr.png')).toBeNull());
});

describe('groupSecret', () => {
  it('ok/groups of four', () => expect(groupSecret('ABCDEFGHIJ')).toBe('ABCD EFGH IJ'));
  it('ok/empty', () => expect(groupSecret('')).toBe(''));
});
