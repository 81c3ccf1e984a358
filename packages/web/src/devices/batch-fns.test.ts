import { describe, expect, it } from 'vitest';
import {
  batchErrors,
  batchInputOf,
  batchValues,
  checkDeviceId,
  checkDeviceList,
  describeFilter,
  pageCount,
  parseDeviceFile,
  share,
  uploadProblems,
  type BatchFormValues,
} from './batch-fns';

const ID = 'ab'.repeat(32);
const ID2 = 'cd'.repeat(32);

type Over = Partial<Pick<BatchFormValues, 'name' | 'policyId'>> & {
  operator?: 'and' | 'or';
  filters?: { name: string; value: string }[];
};
const form = ({ operator = 'and', filters = [], ...over }: Over = {}): BatchFormValues => ({
  name: 'Line A',
  policyId: 'p1',
  attributeFilter: { operator, filters },
  ...over,
});

describe('batchInputOf', () => {
  it('ok/trims names and drops empty filter rows', () => {
    const input = batchInputOf(
      form({
        name: ' Line A ',
        operator: 'or',
        filters: [
          { name: ' board ', value: 'rev-b' },
          { name: '', value: '' },
        ],
      }),
    );
    expect(input).toEqual({
      name: 'Line A',
      policyId: 'p1',
      attributeFilter: { operator: 'or', filters: [{ name: 'board', value: 'rev-b' }] },
    });
  });
});

describe('batchErrors', () => {
  const cases: [string, Over, Record<string, string>][] = [
    ['ok/name and policy', {}, {}],
    ['ok/an empty filter row is ignored', { filters: [{ name: '', value: '' }] }, {}],
    ['fail/no policy', { policyId: null }, { policyId: 'Choose a policy (or create one)' }],
    [
      'fail/bad name',
      { name: 'a/b' },
      { name: 'Use letters, digits, spaces, dots, underscores and hyphens' },
    ],
    [
      'fail/a value without a name',
      { filters: [{ name: ' ', value: 'x' }] },
      { 'attributeFilter.filters.0.name': 'Name the attribute' },
    ],
    [
      'fail/a value too long',
      { filters: [{ name: 'a', value: 'v'.repeat(257) }] },
      { 'attributeFilter.filters.0.value': 'Use at most 256 characters' },
    ],
  ];
  it.each(cases)('%s', (_n, over, want) => expect(batchErrors(form(over))).toEqual(want));
});

describe('batchValues', () => {
  it('ok/a new batch has no policy and no filter', () => {
    expect(batchValues()).toEqual(form({ name: '', policyId: null }));
  });
  it('ok/a stored batch is copied', () => {
    const stored = {
      name: 'B',
      policyId: 'p',
      attributeFilter: { operator: 'or' as const, filters: [{ name: 'a', value: '1' }] },
    };
    const v = batchValues(stored);
    v.attributeFilter.filters[0]!.value = '2';
    expect(stored.attributeFilter.filters[0]!.value).toBe('1');
  });
});

describe('describeFilter', () => {
  it('ok/joined with the operator', () => {
    expect(
      describeFilter({
        operator: 'or',
        filters: [
          { name: 'os', value: 'linux' },
          { name: 'board', value: 'b' },
        ],
      }),
    ).toBe('os = linux OR board = b');
    expect(describeFilter({ operator: 'and', filters: [] })).toBe('none');
  });
});

describe('share', () => {
  it('ok/percent of the batch, nothing for an empty batch', () => {
    expect(share(1, 3)).toBe(33.3);
    expect(share(3, 3)).toBe(100);
    expect(share(0, 0)).toBe(0);
  });
});

describe('checkDeviceId', () => {
  const cases: [string, string, ReturnType<typeof checkDeviceId>][] = [
    ['ok/lowercase', ID, { ok: true, id: ID }],
    ['ok/uppercase is lowered, spaces trimmed', ` ${ID.toUpperCase()} `, { ok: true, id: ID }],
    ['fail/not hex', 'xyz', { ok: false, reason: 'not hexadecimal' }],
    ['fail/short', 'abc', { ok: false, reason: 'wrong length: 3 hex digits, a device ID has 64' }],
  ];
  it.each(cases)('%s', (_n, raw, want) => expect(checkDeviceId(raw)).toEqual(want));
});

describe('checkDeviceList', () => {
  it('ok/a good list has no problems', () => {
    expect(checkDeviceList([ID, ID2])).toEqual([]);
  });
  it('fail/each bad entry named by position, in the server words', () => {
    expect(checkDeviceList([ID, 42, 'zz', ID.toUpperCase(), 'abcd'])).toEqual([
      { entry: 2, value: '42', reason: 'not a string' },
      { entry: 3, value: 'zz', reason: 'not hexadecimal' },
      { entry: 4, value: ID.toUpperCase(), reason: 'duplicate of entry 1' },
      { entry: 5, value: 'abcd', reason: 'wrong length: 4 hex digits, a device ID has 64' },
    ]);
  });
});

describe('parseDeviceFile', () => {
  const cases: [string, string, boolean, RegExp?][] = [
    ['ok/devices list', JSON.stringify({ devices: [ID] }), true],
    ['fail/not JSON', 'devices: x', false, /not JSON/],
    ['fail/an array', `["${ID}"]`, false, /JSON object/],
    ['fail/no devices key', '{"ids":[]}', false, /no "devices" list/],
    [
      'fail/extra key',
      JSON.stringify({ devices: [ID], batch: 'x' }),
      false,
      /Unexpected keys besides "devices": batch/,
    ],
    ['fail/empty list', '{"devices":[]}', false, /empty/],
  ];
  it.each(cases)('%s', (_n, text, ok, reason) => {
    const r = parseDeviceFile(text);
    expect(r.ok).toBe(ok);
    if (!r.ok) expect(r.reason).toMatch(reason!);
  });
});

describe('uploadProblems', () => {
  const base = { type: 't', title: 'Bad Request', status: 400, detail: 'd' };
  it('ok/the server list and its total', () => {
    const p = {
      ...base,
      problems: [{ entry: 2, value: 'x', reason: 'not hexadecimal' }],
      problemCount: 1500,
    };
    expect(uploadProblems(p)).toEqual({
      problems: [{ entry: 2, value: 'x', reason: 'not hexadecimal' }],
      total: 1500,
    });
  });
  it('fail/another problem has no list', () => {
    expect(uploadProblems(base)).toBeUndefined();
  });
});

describe('pageCount', () => {
  it('ok/at least one page', () => {
    expect(pageCount(0, 50)).toBe(1);
    expect(pageCount(101, 50)).toBe(3);
  });
});
