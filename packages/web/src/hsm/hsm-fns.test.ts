import { describe, expect, it } from 'vitest';
import {
  certificateFileName,
  certificatePemError,
  defaultTokenWindow,
  issuingCounts,
  privateKeyPemError,
  publicKeyFileName,
  signingKeyNameError,
  tabOf,
  tokenErrors,
  tokenStatus,
  visibleTabs,
  type TokenFormValues,
} from './hsm-fns';

const block = (label: string) => `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;

describe('tabs', () => {
  it('ok/unknown or missing tab opens issuing certificates', () => {
    expect(tabOf(null)).toBe('issuing');
    expect(tabOf('nope')).toBe('issuing');
    expect(tabOf('tokens')).toBe('tokens');
  });
  it('ok/contributors do not see Tokens, administrators do', () => {
    expect(visibleTabs('contributor', 'issuing').map((t) => t.value)).not.toContain('tokens');
    expect(visibleTabs('administrator', 'issuing').map((t) => t.value)).toContain('tokens');
  });
  it('ok/Manufacturing sits beside Tokens, for administrators only', () => {
    const admin = visibleTabs('administrator', 'issuing').map((t) => t.value);
    expect(admin.indexOf('manufacturing')).toBe(admin.indexOf('tokens') + 1);
    expect(visibleTabs('contributor', 'issuing').map((t) => t.value)).not.toContain(
      'manufacturing',
    );
    expect(tabOf('manufacturing')).toBe('manufacturing');
  });
  it('ok/a typed-in Tokens tab shows, so the server refusal can be read', () => {
    expect(visibleTabs('contributor', 'tokens').map((t) => t.value)).toContain('tokens');
  });
});

describe('issuingCounts', () => {
  it('ok/counts issuing certificates only, by status', () => {
    expect(
      issuingCounts([
        { kind: 'issuing', status: 'valid' },
        { kind: 'issuing', status: 'not used' },
        { kind: 'issuing', status: 'not used' },
        { kind: 'issuing', status: 'expired' },
        { kind: 'root', status: 'valid' },
        { kind: 'tls', status: 'expired' },
      ]),
    ).toEqual({ valid: 1, expired: 1, 'not used': 2 });
  });
});

describe('file names', () => {
  it('ok/certificates by kind and name, chain marked', () => {
    expect(certificateFileName({ kind: 'issuing', name: 'Line A / 2' }, false)).toBe(
      'issuing-line-a-2.pem',
    );
    expect(certificateFileName({ kind: 'root', name: 'OEM Root CA' }, true)).toBe(
      'root-oem-root-ca-chain.pem',
    );
  });
  it('ok/imported keys keep their nohsm mark', () => {
    expect(publicKeyFileName('nohsm:dev key')).toBe('nohsm-dev-key-public.pem');
    expect(publicKeyFileName('###')).toBe('unnamed-public.pem');
  });
});

describe('tokenErrors', () => {
  const now = new Date('2025-06-01T12:00:00Z');
  const ok: TokenFormValues = {
    name: 'Line A token',
    batchId: 'b1',
    notBefore: '2025-06-01T00:00:00Z',
    notAfter: '2025-09-01T00:00:00Z',
  };
  const cases: [string, Partial<TokenFormValues>, Record<string, string>][] = [
    ['ok/a window from now', {}, {}],
    ['fail/no name', { name: ' ' }, { name: 'Enter a name' }],
    [
      'fail/bad name',
      { name: 'a/b' },
      { name: 'Use letters, digits, spaces, dots, underscores and hyphens' },
    ],
    [
      'fail/no batch',
      { batchId: null },
      { batchId: 'Choose the batch whose devices present this token' },
    ],
    [
      'fail/end before start',
      { notAfter: '2025-05-01T00:00:00Z' },
      { notAfter: 'Must be later than "not before"' },
    ],
    [
      'fail/ended already',
      { notBefore: '2025-01-01T00:00:00Z', notAfter: '2025-02-01T00:00:00Z' },
      { notAfter: 'Is in the past: the token could never be used' },
    ],
    [
      'fail/no dates',
      { notBefore: '', notAfter: '' },
      { notBefore: 'Enter a date and time', notAfter: 'Enter a date and time' },
    ],
  ];
  it.each(cases)('%s', (_n, over, want) =>
    expect(tokenErrors({ ...ok, ...over }, now)).toEqual(want),
  );

  it('ok/default window is valid', () => {
    const w = defaultTokenWindow(now);
    expect(tokenErrors({ ...ok, ...w }, now)).toEqual({});
  });
});

describe('tokenStatus', () => {
  const now = new Date('2025-06-01T12:00:00Z');
  it('ok/valid, not yet valid, expired', () => {
    expect(
      tokenStatus({ notBefore: '2025-06-01T00:00:00Z', notAfter: '2025-07-01T00:00:00Z' }, now),
    ).toBe('valid');
    expect(
      tokenStatus({ notBefore: '2025-06-02T00:00:00Z', notAfter: '2025-07-01T00:00:00Z' }, now),
    ).toBe('not yet valid');
    expect(
      tokenStatus({ notBefore: '2025-05-01T00:00:00Z', notAfter: '2025-06-01T12:00:00Z' }, now),
    ).toBe('expired');
  });
});

describe('signingKeyNameError', () => {
  const cases: [string, string, boolean][] = [
    ['ok/letters and spaces', 'Firmware key 1', true],
    ['ok/dots and dashes', 'fw.key-2_b', true],
    ['fail/empty', '', false],
    ['fail/starts with a dash', '-key', false],
    ['fail/a colon (nohsm: is added by the server)', 'nohsm:key', false],
    ['fail/65 characters', 'k'.repeat(65), false],
  ];
  it.each(cases)('%s', (_n, v, ok) => expect(signingKeyNameError(v) === null).toBe(ok));
});

describe('privateKeyPemError', () => {
  const cases: [string, string, RegExp | null][] = [
    ['ok/PKCS#8', block('PRIVATE KEY'), null],
    ['ok/SEC1', block('EC PRIVATE KEY'), null],
    ['ok/PKCS#1', block('RSA PRIVATE KEY'), null],
    ['fail/encrypted', block('ENCRYPTED PRIVATE KEY'), /encrypted/],
    ['fail/a certificate', block('CERTIFICATE'), /Paste a PEM private key/],
    ['fail/two keys', block('PRIVATE KEY') + block('PRIVATE KEY'), /one private key/],
  ];
  it.each(cases)('%s', (_n, pem, want) => {
    const e = privateKeyPemError(pem);
    if (want) expect(e).toMatch(want);
    else expect(e).toBeNull();
  });
});

describe('certificatePemError', () => {
  const cases: [string, string, RegExp | null][] = [
    ['ok/one certificate', block('CERTIFICATE'), null],
    [
      'fail/with its private key',
      block('CERTIFICATE') + block('PRIVATE KEY'),
      /holds a private key/,
    ],
    ['fail/nothing', 'hello', /Paste a PEM certificate/],
    ['fail/two certificates', block('CERTIFICATE') + block('CERTIFICATE'), /holds 2 certificates/],
  ];
  it.each(cases)('%s', (_n, pem, want) => {
    const e = certificatePemError(pem);
    if (want) expect(e).toMatch(want);
    else expect(e).toBeNull();
  });
});
