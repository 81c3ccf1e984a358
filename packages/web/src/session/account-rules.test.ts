import { describe, expect, it } from 'vitest';
import {
  emailError,
  nameError,
  passwordError,
  setupTokenFromHash,
  totpCodeError,
  usernameError,
} from './account-rules';

describe('account rules (as the server checks them)', () => {
  const cases: [string, string | null, boolean][] = [
    ['ok/username letters digits hyphen underscore', usernameError('ops-admin_1'), true],
    ['fail/username with a space', usernameError('ops admin'), false],
    ['fail/username with a dot', usernameError('ops.admin'), false],
    ['fail/username empty', usernameError(''), false],
    ['fail/username of 65 characters', usernameError('a'.repeat(65)), false],
    ['ok/passphrase', passwordError('correct horse battery', 'admin'), true],
    ['fail/password of 11 characters', passwordError('abcdefghijk', 'admin'), false],
    ['fail/password holding the username', passwordError('xxadminxx-1234', 'admin'), false],
    ['fail/password of few distinct characters', passwordError('abababababab', 'zed'), false],
    ['fail/password too long', passwordError('ab1-'.repeat(65), 'zed'), false],
    ['ok/name', nameError(' Ada '), true],
    ['fail/blank name', nameError('  '), false],
    ['ok/email', emailError('ada@example.com'), true],
    ['fail/email without domain dot', emailError('ada@example'), false],
    ['ok/code with a space', totpCodeError('123 456'), true],
    ['fail/code of 5 digits', totpCodeError('12345'), false],
    ['fail/code with letters', totpCodeError('12345a'), false],
  ];
  for (const [name, result, ok] of cases) {
    it(name, () => (ok ? expect(result).toBeNull() : expect(result).toEqual(expect.any(String))));
  }
});

describe('setupTokenFromHash', () => {
  it('ok/token from the fragment', () => {
    expect(setupTokenFromHash('#token=abcdefghijklmnopqrstuvwxyz_-0123')).toBe(
      'abcdefghijklmnopqrstuvwxyz_-0123',
    );
  });
  it('fail/no fragment', () => expect(setupTokenFromHash('')).toBeNull());
  it('fail/odd characters', () =>
    expect(setupTokenFromHash('#token=<script>aaaaaaaaaaaaa')).toBeNull());
});
