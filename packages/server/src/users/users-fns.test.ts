import { describe, expect, it } from 'vitest';
import { checkPassword, usernameKey, usernameSchema } from './users-fns.js';

describe('usernameSchema', () => {
  it.each([
    ['ok/letters and digits', 'alice42', true],
    ['ok/hyphen and underscore', 'line-3_operator', true],
    ['fail/space', 'alice smith', false],
    ['fail/dot', 'alice.smith', false],
    ['fail/empty', '', false],
    ['fail/non-ascii letter', 'jürgen', false],
    ['fail/too long', 'a'.repeat(65), false],
  ])('%s', (_name, value, ok) => {
    expect(usernameSchema.safeParse(value).success).toBe(ok);
  });
});

describe('checkPassword', () => {
  it.each([
    ['ok/long passphrase', 'correct horse battery staple', 'alice', true],
    ['fail/too short', 'short-pw', 'alice', false],
    ['fail/contains username', 'alice-is-my-password', 'alice', false],
    ['fail/one repeated character', 'aaaaaaaaaaaaaaaa', 'bob', false],
    ['fail/too long', 'x1y2'.repeat(70), 'bob', false],
  ])('%s', (_name, password, username, ok) => {
    expect(checkPassword(password, username).ok).toBe(ok);
  });
});

describe('usernameKey', () => {
  it('ok/case folds', () => expect(usernameKey('Alice')).toBe(usernameKey('alice')));
});
