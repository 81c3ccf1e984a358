import { describe, expect, it } from 'vitest';
import { ApiError } from './api-client';
import { formProblem } from './form-problems';

const problem = (type: string, extra: Record<string, unknown> = {}) =>
  new ApiError({
    type: `https://trustlink.dev/problems/${type}`,
    title: 'Bad Request',
    status: 400,
    detail: 'the detail',
    ...extra,
  });

describe('formProblem', () => {
  it('ok/per-field errors go beside the fields, no alert', () => {
    const p = formProblem(
      problem('validation-failed', { errors: [{ path: 'body.email', message: 'bad' }] }),
      ['email'],
    );
    expect(p).toEqual({ byField: { email: 'bad' }, error: undefined, other: [] });
  });

  it('ok/a problem type that names a field shows its detail there', () => {
    const p = formProblem(problem('weak-password'), ['password'], { 'weak-password': 'password' });
    expect(p.byField).toEqual({ password: 'the detail' });
    expect(p.error).toBeUndefined();
  });

  it('ok/anything else goes to the alert with the server message', () => {
    const err = problem('conflict');
    const p = formProblem(err, ['username']);
    expect(p.error).toBe(err);
    expect(p.byField).toEqual({});
  });

  it('ok/unknown fields keep the alert and are listed', () => {
    const p = formProblem(
      problem('validation-failed', { errors: [{ path: 'body.secret', message: 'missing' }] }),
      ['name'],
    );
    expect(p.error).toBeDefined();
    expect(p.other).toEqual(['secret: missing']);
  });

  it('fail/not an API error is rethrown', () => {
    expect(() => formProblem(new TypeError('bug'), [])).toThrow('bug');
  });
});
