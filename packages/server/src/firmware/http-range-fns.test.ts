import { describe, expect, it } from 'vitest';
import { contentRange, decideRange, etagMatches, imageEtag } from './http-range-fns.js';

const SIZE = 1000;
const etag = imageEtag('ab'.repeat(32));

describe('decideRange', () => {
  const cases: [string, string | undefined, ReturnType<typeof decideRange>, object?][] = [
    ['ok/no header sends everything', undefined, { kind: 'full' }],
    ['ok/a closed range', 'bytes=0-99', { kind: 'partial', start: 0, end: 99 }],
    [
      'ok/an open range resumes to the end',
      'bytes=400-',
      { kind: 'partial', start: 400, end: 999 },
    ],
    [
      'ok/a suffix range is the last bytes',
      'bytes=-100',
      { kind: 'partial', start: 900, end: 999 },
    ],
    [
      'ok/a suffix longer than the file is all of it',
      'bytes=-5000',
      { kind: 'partial', start: 0, end: 999 },
    ],
    [
      'ok/an end past the file is cut to it',
      'bytes=990-5000',
      { kind: 'partial', start: 990, end: 999 },
    ],
    ['ok/the last byte alone', 'bytes=999-999', { kind: 'partial', start: 999, end: 999 }],
    ['ok/blanks around the numbers', 'bytes= 10 - 19 ', { kind: 'partial', start: 10, end: 19 }],
    [
      'ok/If-Range with the current tag keeps the range',
      'bytes=5-',
      { kind: 'partial', start: 5, end: 999 },
      { ifRange: etag },
    ],
    [
      'ok/If-Range with another tag sends everything',
      'bytes=5-',
      { kind: 'full' },
      { ifRange: '"other"' },
    ],
    [
      'ok/If-Range with a date sends everything',
      'bytes=5-',
      { kind: 'full' },
      { ifRange: 'Wed, 21 Oct 2015 07:28:00 GMT' },
    ],
    ['ok/several ranges are ignored', 'bytes=0-1,5-6', { kind: 'full' }],
    ['ok/another unit is ignored', 'items=0-1', { kind: 'full' }],
    ['ok/an inverted range is ignored', 'bytes=9-1', { kind: 'full' }],
    ['ok/an empty range spec is ignored', 'bytes=-', { kind: 'full' }],
    ['ok/garbage is ignored', 'bytes=a-b', { kind: 'full' }],
    ['fail/a start at the end is unsatisfiable', 'bytes=1000-', { kind: 'unsatisfiable' }],
    ['fail/a start past the end is unsatisfiable', 'bytes=5000-6000', { kind: 'unsatisfiable' }],
    ['fail/an empty suffix is unsatisfiable', 'bytes=-0', { kind: 'unsatisfiable' }],
    [
      'fail/a start beyond any file is unsatisfiable',
      `bytes=${'9'.repeat(20)}-`,
      { kind: 'unsatisfiable' },
    ],
  ];
  for (const [name, header, want, opts] of cases) {
    it(name, () => {
      expect(decideRange(header, SIZE, { etag, ...opts })).toEqual(want);
    });
  }

  it('fail/any range of an empty file is unsatisfiable', () => {
    expect(decideRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=-1', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ok/Content-Range values', () => {
    expect(contentRange({ kind: 'partial', start: 0, end: 99 }, SIZE)).toBe('bytes 0-99/1000');
    expect(contentRange({ kind: 'unsatisfiable' }, SIZE)).toBe('bytes */1000');
    expect(contentRange({ kind: 'full' }, SIZE)).toBeUndefined();
  });
});

describe('etagMatches', () => {
  it('ok/the tag, a list holding it, a weak form and * match', () => {
    expect(etagMatches(etag, etag)).toBe(true);
    expect(etagMatches(`"x", ${etag}`, etag)).toBe(true);
    expect(etagMatches(`W/${etag}`, etag)).toBe(true);
    expect(etagMatches('*', etag)).toBe(true);
  });
  it('fail/another tag or none does not', () => {
    expect(etagMatches('"x"', etag)).toBe(false);
    expect(etagMatches(undefined, etag)).toBe(false);
  });
});
