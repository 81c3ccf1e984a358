import { describe, expect, it } from 'vitest';
import {
  durationFieldError,
  nameError,
  newPolicyValues,
  policyErrors,
  policyInputOf,
  policyValues,
  type PolicyFormValues,
} from './policy-fns';
import type { Policy } from './policy-types';

const now = new Date('2025-01-31T10:00:00Z');

function values(change: (v: PolicyFormValues) => void = () => {}): PolicyFormValues {
  const v = newPolicyValues();
  v.name = 'Line A';
  change(v);
  return v;
}

describe('nameError', () => {
  const cases: [string, string, string | null][] = [
    ['ok/letters, digits, space, dot, hyphen', 'Line A-2.b_c', null],
    ['ok/non-Latin letters', 'Ligne Été', null],
    ['fail/empty', '  ', 'Enter a name'],
    ['fail/slash', 'a/b', 'Use letters, digits, spaces, dots, underscores and hyphens'],
    ['fail/too long', 'x'.repeat(65), 'Use at most 64 characters'],
  ];
  it.each(cases)('%s', (_n, v, want) => expect(nameError(v)).toBe(want));
});

describe('policyErrors', () => {
  const cases: [string, (v: PolicyFormValues) => void, Record<string, string>][] = [
    ['ok/defaults with a name', () => {}, {}],
    [
      'ok/device lifetime equal to the issuing lifetime',
      (v) => (v.deviceCertificate.lifetime = { value: 60, unit: 'months' }),
      {},
    ],
    [
      'fail/device certificate outlives the issuing CA',
      (v) => (v.deviceCertificate.lifetime = { value: 6, unit: 'years' }),
      {
        'deviceCertificate.lifetime':
          'The device certificate lifetime (6 years) must not exceed the issuing certificate lifetime (5 years)',
      },
    ],
    [
      'fail/calendar months: 1 month from 31 January is shorter than 30 days',
      (v) => {
        v.deviceCertificate.lifetime = { value: 30, unit: 'days' };
        v.issuingCertificate.lifetime = { value: 1, unit: 'months' };
      },
      {
        'deviceCertificate.lifetime':
          'The device certificate lifetime (30 days) must not exceed the issuing certificate lifetime (1 month)',
      },
    ],
    [
      'fail/no key type',
      (v) => (v.deviceCertificate.keyTypes = []),
      { 'deviceCertificate.keyTypes': 'Accept at least one key type' },
    ],
    [
      'fail/empty count',
      (v) => (v.issuingCertificate.lifetime.value = ''),
      { 'issuingCertificate.lifetime': 'Enter a number' },
    ],
    [
      'fail/database direct without connection, JWT over a day',
      (v) => {
        v.connectionType = 'database-direct';
        v.jwtLifetime = { value: 25, unit: 'hours' };
      },
      {
        databaseConnectionId: 'A database direct policy needs a database direct connection',
        jwtLifetime: 'The JWT lifetime must be at most 24 hours',
      },
    ],
    [
      'ok/an IoT hub policy ignores the JWT field',
      (v) => (v.jwtLifetime = { value: '', unit: 'hours' }),
      {},
    ],
  ];
  it.each(cases)('%s', (_n, change, want) =>
    expect(policyErrors(values(change), now)).toEqual(want),
  );
});

describe('policyInputOf', () => {
  it('ok/IoT hub: no JWT lifetime, no database connection, numbers from the fields', () => {
    const v = values((x) => {
      x.deviceCertificate.lifetime = { value: '90', unit: 'days' };
      x.databaseConnectionId = 'left over';
      x.name = '  Line A  ';
    });
    const input = policyInputOf(v);
    expect(input).toMatchObject({
      name: 'Line A',
      connectionType: 'iot-hub',
      databaseConnectionId: null,
      jwtLifetime: null,
      deviceCertificate: { lifetime: { value: 90, unit: 'days' } },
    });
  });
  it('ok/database direct: no hub, the JWT lifetime kept', () => {
    const v = values((x) => {
      x.connectionType = 'database-direct';
      x.hubId = 'left over';
      x.databaseConnectionId = 'db1';
    });
    expect(policyInputOf(v)).toMatchObject({
      hubId: null,
      databaseConnectionId: 'db1',
      jwtLifetime: { value: 60, unit: 'minutes' },
    });
  });
  it('ok/round trip of a stored policy', () => {
    const p: Policy = {
      ...policyInputOf(values()),
      id: 'p1',
      issuingCaId: null,
      createdAt: '',
      updatedAt: '',
    };
    expect(policyInputOf(policyValues(p))).toEqual(policyInputOf(values()));
  });
});

describe('durationFieldError', () => {
  it('ok/finds the error on the duration, its count or its unit', () => {
    expect(durationFieldError({ 'a.b': 'x' }, 'a.b')).toBe('x');
    expect(durationFieldError({ 'a.b.value': 'y' }, 'a.b')).toBe('y');
    expect(durationFieldError({ 'a.b.unit': 'z' }, 'a.b')).toBe('z');
    expect(durationFieldError({}, 'a.b')).toBeUndefined();
  });
});
