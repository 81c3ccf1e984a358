import { describe, expect, it } from 'vitest';
import { matchTotp, otpauthUri, qrCodeDataUrl, totpCode, totpStep } from './totp-fns.js';

// RFC 6238 appendix B test secret (SHA-1): the ASCII string "12345678901234567890".
const SECRET = Buffer.from('12345678901234567890');
const AT = new Date(59_000);

describe('totp-fns', () => {
  it('ok/RFC 6238 test vector (T=59s gives 287082 for 6 digits)', () => {
    expect(totpCode(SECRET, AT)).toBe('287082');
  });

  it.each([
    ['ok/current code', '287082', null, true, undefined],
    ['ok/spaces are ignored', '287 082', null, true, undefined],
    ['fail/wrong code', '000000', null, false, 'invalid'],
    ['fail/not six digits', '28708', null, false, 'invalid'],
    ['fail/replayed (same step already used)', '287082', totpStep(AT), false, 'replayed'],
    ['fail/older than a used step', '287082', totpStep(AT) + 1, false, 'replayed'],
  ])('%s', (_n, code, lastStep, ok, reason) => {
    const r = matchTotp(SECRET, code, AT, lastStep);
    expect(r.ok).toBe(ok);
    if (!r.ok) expect(r.reason).toBe(reason);
  });

  it('ok/one step of drift either way', () => {
    const next = totpCode(SECRET, new Date(AT.getTime() + 30_000));
    const r = matchTotp(SECRET, next, AT, null);
    expect(r).toEqual({ ok: true, step: totpStep(AT) + 1 });
    const far = totpCode(SECRET, new Date(AT.getTime() + 90_000));
    expect(matchTotp(SECRET, far, AT, null).ok).toBe(false);
  });

  it('ok/otpauth URI and QR code', async () => {
    const uri = otpauthUri(SECRET, 'Trustlink', 'alice');
    expect(uri).toMatch(/^otpauth:\/\/totp\/Trustlink:alice\?/);
    expect(uri).toContain('secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(await qrCodeDataUrl(uri)).toMatch(/^data:image\/svg\+xml;base64,/);
  });
});
