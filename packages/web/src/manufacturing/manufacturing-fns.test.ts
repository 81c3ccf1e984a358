import { describe, expect, it } from 'vitest';
import { toLocalInput } from '../hsm/hsm-fns';
import {
  credentialErrors,
  credentialInputOf,
  newCredentialValues,
  usage,
  type CredentialFormValues,
} from './manufacturing-fns';

const now = new Date('2026-11-26T10:00:00Z');
const good = (over: Partial<CredentialFormValues> = {}): CredentialFormValues => ({
  ...newCredentialValues(now),
  name: 'Line A week 48',
  batchId: 'b1',
  ...over,
});

describe('credentialErrors', () => {
  it('ok/the defaults with a name and a batch pass: one shift ahead, 1000 devices', () => {
    const v = good();
    expect(new Date(v.notAfter).getTime() - now.getTime()).toBe(12 * 3_600_000);
    expect(v.maxDevices).toBe(1000);
    expect(credentialErrors(v, now)).toEqual({});
  });
  it('bad/name, batch, time and count as the server checks them', () => {
    const e = credentialErrors({ name: 'a/b', batchId: null, notAfter: '', maxDevices: '' }, now);
    expect(Object.keys(e).sort()).toEqual(['batchId', 'maxDevices', 'name', 'notAfter']);
    expect(credentialErrors(good({ name: 'x'.repeat(65) }), now).name).toMatch(/64/);
    expect(
      credentialErrors(good({ notAfter: toLocalInput(new Date(now.getTime() - 60_000)) }), now)
        .notAfter,
    ).toMatch(/in the past/);
    expect(credentialErrors(good({ maxDevices: 0 }), now).maxDevices).toBe('At least 1');
    expect(credentialErrors(good({ maxDevices: 2.5 }), now).maxDevices).toMatch(/whole/);
    expect(credentialErrors(good({ maxDevices: 1_000_001 }), now).maxDevices).toBe(
      'At most 1,000,000',
    );
    expect(credentialErrors(good({ maxDevices: 1_000_000 }), now)).toEqual({});
  });
});

describe('credentialInputOf', () => {
  it('ok/sends the name trimmed and the time as an instant', () => {
    const v = good({ name: ' Line A ', maxDevices: 500 });
    const body = credentialInputOf(v);
    expect(body).toEqual({
      name: 'Line A',
      batchId: 'b1',
      notAfter: new Date(v.notAfter).toISOString(),
      maxDevices: 500,
    });
  });
});

describe('usage', () => {
  it('ok/count and share, capped at 100 %', () => {
    expect(usage({ usedDevices: 250, maxDevices: 1000 })).toEqual({
      text: '250 of 1,000',
      percent: 25,
    });
    expect(usage({ usedDevices: 5, maxDevices: 5 }).percent).toBe(100);
  });
});
