import { describe, expect, it } from 'vitest';
import { describeEntry, formatTime, localInputToIso, type AuditEntry } from './audit-fns';

const entry = (over: Partial<AuditEntry>): AuditEntry => ({
  seq: 1,
  at: '2026-11-25T10:00:00.000Z',
  actor: { type: 'user', id: 'u1', name: 'admin' },
  action: 'auth.sign-in',
  target: null,
  result: 'ok',
  sourceAddress: '127.0.0.1',
  details: {},
  ...over,
});

describe('describeEntry', () => {
  const cases: [string, Partial<AuditEntry>, string][] = [
    ['ok/sign-in', {}, 'admin signed in'],
    ['ok/failed sign-in says so', { result: 'failed' }, 'admin signed in (failed)'],
    [
      'ok/user created names the target',
      { action: 'user.create', target: { type: 'user', id: 'u2', name: 'alice' } },
      'admin created user alice',
    ],
    [
      'ok/target without a name falls back to its id',
      { action: 'access.denied', target: { type: 'route', id: 'GET /api/v1/users', name: null } },
      'admin was refused GET /api/v1/users',
    ],
    [
      'ok/unknown action keeps its name',
      { action: 'device.enrol', target: { type: 'device', id: 'ab12', name: null } },
      'admin: device.enrol ab12',
    ],
    [
      'ok/generic create of another domain',
      { action: 'policy.create', target: { type: 'policy', id: 'p1', name: 'Line 1' } },
      'admin created policy Line 1',
    ],
    [
      'ok/generic update with a hyphenated noun',
      { action: 'auth-cert.update', target: { type: 'auth-cert', id: 'a1', name: null } },
      'admin changed auth cert a1',
    ],
    [
      'ok/an enrolment token created',
      {
        action: 'enrolment-token.create',
        target: { type: 'enrolment-token', id: 't1', name: 'Line A token' },
        details: { batchId: 'b1' },
      },
      'admin created enrolment token Line A token',
    ],
    [
      'ok/an enrolment token deleted',
      {
        action: 'enrolment-token.delete',
        target: { type: 'enrolment-token', id: 't1', name: 'Line A token' },
      },
      'admin deleted enrolment token Line A token',
    ],
    [
      'ok/an old-named enrolment token deletion',
      { action: 'token.delete', target: { type: 'token', id: 't1', name: 'Line A token' } },
      'admin deleted enrolment token Line A token',
    ],
    [
      'ok/an old-named enrolment token is told from an API token by its batch',
      {
        action: 'token.create',
        target: { type: 'token', id: 't1', name: 'Line A token' },
        details: { batchId: 'b1' },
      },
      'admin created enrolment token Line A token',
    ],
    [
      'ok/an API token',
      { action: 'token.create', target: { type: 'token', id: 't2', name: 'ci' } },
      'admin created API token ci',
    ],
    [
      'ok/PKI actions read as sentences',
      {
        action: 'pki.signing-key.import',
        target: { type: 'signing-key', id: 'k', name: 'nohsm:dev' },
      },
      'admin imported signing key nohsm:dev',
    ],
    [
      'ok/denied result',
      { action: 'setup.claim', result: 'denied' },
      'admin set up this instance (denied)',
    ],
  ];
  for (const [name, over, expected] of cases) {
    it(name, () => expect(describeEntry(entry(over))).toBe(expected));
  }
});

describe('time helpers', () => {
  it('ok/formatTime gives a readable local time', () => {
    expect(formatTime('2026-11-25T10:00:00.000Z', 'en-GB')).toMatch(/2026/);
  });
  it('fail/formatTime leaves a bad value as it is', () => {
    expect(formatTime('not a time')).toBe('not a time');
  });
  it('ok/datetime-local to ISO', () => {
    expect(localInputToIso('2026-11-25T10:00')).toMatch(/^2026-11-25T\d\d:00:00\.000Z$/);
  });
  it('ok/empty is no bound', () => expect(localInputToIso('')).toBeUndefined());
});
