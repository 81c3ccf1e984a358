import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatIdentityLine, parseIdentityLine } from './identity-line.js';

const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
  type: 'spki',
  format: 'der',
});
const b64 = spki.toString('base64');
const reasonOf = (r: { ok: boolean; reason?: string }) => (r.ok ? 'ok' : r.reason);

describe('identity line', () => {
  it('ok/formats and parses back the key, with LF or CRLF line ends', () => {
    const line = formatIdentityLine(spki);
    expect(line).toBe(`TRUSTLINK-IDENTITY v1 ${b64}`);
    expect(parseIdentityLine(line)).toEqual({ ok: true, spkiDer: spki });
    expect(parseIdentityLine(`${line}\r`)).toEqual({ ok: true, spkiDer: spki });
  });

  it.each([
    ['fail/other boot output', 'I (312) cpu_start: Starting scheduler', 'not-identity-line'],
    ['fail/extra field', `TRUSTLINK-IDENTITY v1 ${b64} extra`, 'not-identity-line'],
    ['fail/leading text', `boot: TRUSTLINK-IDENTITY v1 ${b64}`, 'not-identity-line'],
    ['fail/version 2', `TRUSTLINK-IDENTITY v2 ${b64}`, 'unsupported-version'],
    [
      'fail/base64url instead of base64',
      `TRUSTLINK-IDENTITY v1 ${spki.toString('base64url')}`,
      'bad-base64',
    ],
    ['fail/padding left off', `TRUSTLINK-IDENTITY v1 ${b64.replace(/=+$/, '')}`, 'bad-base64'],
    ['fail/non-canonical trailing bits', 'TRUSTLINK-IDENTITY v1 AB==', 'bad-base64'],
    ['fail/too long', `TRUSTLINK-IDENTITY v1 ${'A'.repeat(2000)}`, 'not-identity-line'],
  ])('%s', (_name, line, reason) => {
    expect(reasonOf(parseIdentityLine(line))).toBe(reason);
  });
});
