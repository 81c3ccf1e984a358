import { describe, expect, it } from 'vitest';
import {
  csrfTokenFor,
  hashRecoveryCode,
  looksLikeApiToken,
  newApiToken,
  newRecoveryCode,
  safeEqual,
} from './token-fns.js';

describe('token-fns', () => {
  it('ok/API tokens are recognisable and 256-bit', () => {
    const t = newApiToken();
    expect(looksLikeApiToken(t)).toBe(true);
    expect(t).not.toBe(newApiToken());
  });
  it.each([
    ['fail/no prefix', 'abc'],
    ['fail/short', 'tlk_abc'],
    ['fail/bad character', `tlk_${'a'.repeat(42)}!`],
  ])('%s', (_n, v) => expect(looksLikeApiToken(v)).toBe(false));

  it('ok/CSRF token is bound to the session secret', () => {
    expect(csrfTokenFor('s1')).toBe(csrfTokenFor('s1'));
    expect(csrfTokenFor('s1')).not.toBe(csrfTokenFor('s2'));
  });

  it('ok/recovery codes match however they are typed', () => {
    const code = newRecoveryCode();
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(hashRecoveryCode(code.toLowerCase().replace(/-/g, ' '))).toBe(hashRecoveryCode(code));
  });

  it('ok/safeEqual', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});
