import { describe, expect, it } from 'vitest';
import { storedNamesOf } from './renamed-actions.js';

describe('storedNamesOf', () => {
  it('ok/an action never renamed is matched by its name alone', () => {
    expect(storedNamesOf('user.create')).toEqual([{ action: 'user.create' }]);
    expect(storedNamesOf('token.create')).toEqual([{ action: 'token.create' }]);
  });
  it('ok/an enrolment token creation also matches old token.create entries with a batch', () => {
    expect(storedNamesOf('enrolment-token.create')).toEqual([
      { action: 'enrolment-token.create' },
      { action: 'token.create', detailsLike: '%"batchId":%' },
    ]);
  });
  it('ok/an enrolment token deletion also matches every old token.delete', () => {
    expect(storedNamesOf('enrolment-token.delete')).toEqual([
      { action: 'enrolment-token.delete' },
      { action: 'token.delete', detailsLike: undefined },
    ]);
  });
});
