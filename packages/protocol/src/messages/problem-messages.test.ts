import { describe, expect, it } from 'vitest';
import { PROBLEM_TYPES } from '../protocol-constants.js';
import {
  PROBLEM_STATUS,
  PROBLEM_TYPE_BASE,
  problemSchema,
  problemTypeOf,
} from './problem-messages.js';

describe('problems', () => {
  it('ok/every device problem type has a status', () => {
    for (const t of Object.values(PROBLEM_TYPES))
      expect(PROBLEM_STATUS[t]).toBeGreaterThanOrEqual(400);
  });

  it.each([
    ['ok/ours', `${PROBLEM_TYPE_BASE}device-revoked`, 'device-revoked'],
    ['fail/unknown type of ours', `${PROBLEM_TYPE_BASE}teapot`, undefined],
    ['fail/someone else’s', 'about:blank', undefined],
  ])('%s', (_name, type, short) => {
    expect(problemTypeOf({ type })).toBe(short);
  });

  it.each([
    [
      'ok/as the server writes it',
      {
        type: `${PROBLEM_TYPE_BASE}unauthorized`,
        title: 'Unauthorized',
        status: 401,
        detail: 'x',
        instance: '/device/v1/status',
        requestId: 'r1',
      },
      true,
    ],
    [
      'ok/with field errors',
      {
        type: `${PROBLEM_TYPE_BASE}validation-failed`,
        status: 400,
        errors: [{ path: 'body.csr', message: 'Required' }],
      },
      true,
    ],
    ['fail/status 200', { type: 'x', status: 200 }, false],
    ['fail/no type', { status: 401 }, false],
  ])('%s', (_name, value, ok) => {
    expect(problemSchema.safeParse(value).success).toBe(ok);
  });
});
