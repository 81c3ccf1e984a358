import { describe, expect, it } from 'vitest';
import {
  DerError,
  encodeLength,
  encodeUnsignedInteger,
  readChildren,
  readOne,
  readUnsignedInteger,
} from './der.js';

const h = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const reasonOf = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return e instanceof DerError ? e.reason : String(e);
  }
};

describe('readOne', () => {
  it.each([
    ['ok/short form', '0403 aabbcc', 'ok'],
    ['ok/long form for 128 bytes', `0481 80 ${'00'.repeat(128)}`, 'ok'],
    ['fail/long form for a short value', '0481 03 aabbcc', 'non-minimal-length'],
    ['fail/long form with a leading zero', `0482 0080 ${'00'.repeat(128)}`, 'non-minimal-length'],
    ['fail/indefinite length', '3080 0500 0000', 'indefinite-length'],
    ['fail/five length bytes', '0485 0000000001 00', 'length-too-large'],
    ['fail/high tag number', '1f01 00', 'high-tag-number'],
    ['fail/value cut short', '0403 aabb', 'truncated'],
    ['fail/length bytes cut short', '0482 01', 'truncated'],
    ['fail/only a tag', '04', 'truncated'],
    ['fail/trailing bytes', '0401 aa 00', 'trailing-bytes'],
  ])('%s', (_name, hex, reason) => {
    expect(reasonOf(() => readOne(h(hex)))).toBe(reason);
  });
  it('fail/unexpected tag', () => {
    expect(reasonOf(() => readOne(h('0500'), 0x04))).toBe('unexpected-tag');
  });
});

describe('readChildren', () => {
  it('ok/reads each child', () => {
    const kids = readChildren(readOne(h('3006 0201 01 0401 aa')));
    expect(kids.map((k) => k.tag)).toEqual([0x02, 0x04]);
  });
  it('fail/child overruns its parent', () => {
    expect(reasonOf(() => readChildren(readOne(h('3003 0202 01'))))).toBe('truncated');
  });
});

describe('readUnsignedInteger', () => {
  const read = (hex: string) => readUnsignedInteger(readOne(h(hex)));
  it.each([
    ['ok/zero', '020100', '00'],
    ['ok/127', '02017f', '7f'],
    ['ok/128 with sign byte', '02020080', '80'],
  ])('%s', (_name, hex, magnitude) => {
    expect(read(hex).toString('hex')).toBe(magnitude);
  });
  it.each([
    ['fail/empty', '0200', 'empty-integer'],
    ['fail/negative', '020180', 'negative-integer'],
    ['fail/redundant zero', '0202007f', 'non-minimal-integer'],
    ['fail/not an integer', '0401aa', 'unexpected-tag'],
  ])('%s', (_name, hex, reason) => {
    expect(reasonOf(() => read(hex))).toBe(reason);
  });
});

describe('encoders', () => {
  it.each([
    [0, '00'],
    [127, '7f'],
    [128, '8180'],
    [256, '820100'],
    [70000, '83011170'],
  ])('ok/length %d', (n, hex) => {
    expect(encodeLength(n).toString('hex')).toBe(hex);
  });
  it.each([
    ['00', '020100'],
    ['0000ff', '020200ff'],
    ['7f', '02017f'],
    ['', '020100'],
  ])('ok/integer %s', (magnitude, hex) => {
    expect(encodeUnsignedInteger(h(magnitude)).toString('hex')).toBe(hex);
  });
});
