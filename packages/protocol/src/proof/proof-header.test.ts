import { describe, expect, it } from 'vitest';
import { PROOF_HEADER_MAX_LENGTH, formatProofHeader, parseProofHeader } from './proof-header.js';

const der = Buffer.from('3003020101', 'hex');
const signature = Buffer.from('300602010102010200', 'hex');
const nonce = 'AaChoqOk';

describe('formatProofHeader / parseProofHeader', () => {
  it.each(['spki', 'cert'] as const)('ok/%s round trip', (type) => {
    const value = formatProofHeader({ credential: { type, der }, nonce, signature });
    expect(value).toBe(`${type}=MAMCAQE; nonce=AaChoqOk; sig=MAYCAQECAQIA`);
    expect(parseProofHeader(value)).toEqual({
      ok: true,
      credential: { type, der },
      nonce,
      signature,
    });
  });

  it.each([
    ['fail/empty', ''],
    ['fail/two fields', 'spki=MAMCAQE; nonce=AaChoqOk'],
    ['fail/four fields', 'spki=MAMCAQE; nonce=AaChoqOk; sig=MAYCAQECAQIA; x=1'],
    ['fail/no space after semicolon', 'spki=MAMCAQE;nonce=AaChoqOk;sig=MAYCAQECAQIA'],
    ['fail/two spaces', 'spki=MAMCAQE;  nonce=AaChoqOk; sig=MAYCAQECAQIA'],
    ['fail/unknown credential tag', 'keyid=MAMCAQE; nonce=AaChoqOk; sig=MAYCAQECAQIA'],
    ['fail/upper-case tag', 'SPKI=MAMCAQE; nonce=AaChoqOk; sig=MAYCAQECAQIA'],
    ['fail/fields out of order', 'spki=MAMCAQE; sig=MAYCAQECAQIA; nonce=AaChoqOk'],
    ['fail/credential without value', 'spki=; nonce=AaChoqOk; sig=MAYCAQECAQIA'],
    ['fail/credential without =', 'spki; nonce=AaChoqOk; sig=MAYCAQECAQIA'],
    ['fail/padded base64', 'spki=MAMCAQE=; nonce=AaChoqOk; sig=MAYCAQECAQIA'],
    ['fail/standard base64 alphabet', 'spki=MAMCAQE; nonce=AaChoqOk; sig=MAYCAQECAQ+A'],
    ['fail/non-canonical tail bits', 'spki=MAMCAQF; nonce=AaChoqOk; sig=MAYCAQECAQIA'],
    ['fail/empty nonce', 'spki=MAMCAQE; nonce=; sig=MAYCAQECAQIA'],
    ['fail/nonce with a dot', 'spki=MAMCAQE; nonce=a.b; sig=MAYCAQECAQIA'],
    ['fail/empty signature', 'spki=MAMCAQE; nonce=AaChoqOk; sig='],
    ['fail/wrong second name', 'spki=MAMCAQE; n=AaChoqOk; sig=MAYCAQECAQIA'],
    ['fail/wrong third name', 'spki=MAMCAQE; nonce=AaChoqOk; signature=MAYCAQECAQIA'],
    [
      'fail/too long',
      `spki=${'A'.repeat(PROOF_HEADER_MAX_LENGTH)}; nonce=AaChoqOk; sig=MAYCAQECAQIA`,
    ],
  ])('%s', (_name, value) => {
    const r = parseProofHeader(value);
    expect(r).toMatchObject({ ok: false, reason: 'malformed-header' });
    expect(r.ok ? '' : r.detail).not.toBe('');
  });

  it.each([
    ['fail/bad nonce', { credential: { type: 'spki' as const, der }, nonce: 'a=b', signature }],
    [
      'fail/empty credential',
      { credential: { type: 'spki' as const, der: Buffer.alloc(0) }, nonce, signature },
    ],
    [
      'fail/too long',
      { credential: { type: 'cert' as const, der: Buffer.alloc(7000) }, nonce, signature },
    ],
  ])('%s refused by the writer', (_name, header) => {
    expect(() => formatProofHeader(header)).toThrow(RangeError);
  });
});
