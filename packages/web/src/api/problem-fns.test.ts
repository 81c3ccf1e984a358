import { describe, expect, it } from 'vitest';
import { fieldErrors, parseProblem, problemCode } from './problem-fns';

describe('parseProblem', () => {
  it('ok/problem+json as the server writes it', () => {
    const body = JSON.stringify({
      type: 'https://trustlink.dev/problems/validation-failed',
      title: 'Bad Request',
      status: 400,
      detail: 'body.username: too short',
      instance: '/api/v1/users',
      requestId: 'r-1',
      errors: [{ path: 'body.username', message: 'too short' }],
    });
    const p = parseProblem(400, 'application/problem+json; charset=utf-8', body);
    expect(p).toMatchObject({
      status: 400,
      detail: 'body.username: too short',
      requestId: 'r-1',
      errors: [{ path: 'body.username', message: 'too short' }],
    });
    expect(problemCode(p)).toBe('validation-failed');
  });

  it('ok/plain JSON with only a message', () => {
    const p = parseProblem(409, 'application/json', '{"message":"exists"}');
    expect(p.detail).toBe('exists');
    expect(p.title).toBe('HTTP 409');
  });

  it('ok/malformed errors entries are dropped', () => {
    const p = parseProblem(400, 'application/json', '{"detail":"x","errors":[1,{"path":"a"}]}');
    expect(p.errors).toBeUndefined();
  });

  it('fail/HTML from a proxy still gives a message with the status', () => {
    const p = parseProblem(502, 'text/html', '<html>bad gateway</html>');
    expect(p.status).toBe(502);
    expect(p.detail).toMatch(/502/);
  });

  it('fail/broken JSON still gives a message', () => {
    expect(parseProblem(500, 'application/json', '{nope').detail).toMatch(/500/);
  });

  it('fail/no answer at all (network)', () => {
    const p = parseProblem(0, null, '');
    expect(p.title).toBe('Network error');
    expect(p.detail).toMatch(/could not be reached/);
  });
});

describe('fieldErrors', () => {
  it('ok/maps body paths to field names, keeps the first message per field', () => {
    const r = fieldErrors(
      {
        errors: [
          { path: 'body.username', message: 'bad' },
          { path: 'body.username', message: 'worse' },
          { path: 'body.email', message: 'not an email' },
          { path: 'querystring.page', message: 'too big' },
        ],
      },
      ['username', 'email'],
    );
    expect(r.byField).toEqual({ username: 'bad', email: 'not an email' });
    expect(r.other).toEqual(['page: too big']);
  });

  it('ok/no errors', () => {
    expect(fieldErrors({}, ['a'])).toEqual({ byField: {}, other: [] });
  });
});
