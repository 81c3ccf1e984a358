import { describe, expect, it } from 'vitest';
import {
  attributeProblems,
  cleanAttributes,
  firmwareNameProblem,
  formatSize,
  inputOfFile,
  pageOf,
  pathWithAttributes,
  rolloutShares,
  securityVersionProblem,
  signedBy,
  versionProblem,
} from './firmware-fns';

describe('firmware names and versions, as the server checks them', () => {
  it.each([
    ['ok/plain', 'Gateway 1.2', undefined],
    ['ok/plus and unicode letters', 'Tür+Fenster_rev-b', undefined],
    ['fail/empty', '  ', 'is required'],
    ['fail/slash', 'a/b', 'may hold letters, digits, spaces, dot, plus, underscore and hyphen'],
    ['fail/too long', 'x'.repeat(129), 'must be at most 128 characters'],
  ])('%s', (_n, name, want) => expect(firmwareNameProblem(name)).toBe(want));

  it('ok/version is visible ASCII without spaces', () => {
    expect(versionProblem('1.2.0-rc1+abc')).toBeUndefined();
    expect(versionProblem('1 2')).toMatch(/without spaces/);
    expect(versionProblem('')).toMatch(/1 to 64/);
  });

  it('ok/security version is a 32-bit whole number', () => {
    expect(securityVersionProblem(0)).toBeUndefined();
    expect(securityVersionProblem(4294967295)).toBeUndefined();
    expect(securityVersionProblem(4294967296)).toMatch(/0 to/);
    expect(securityVersionProblem(-1)).toMatch(/0 to/);
    expect(securityVersionProblem(1.5)).toMatch(/whole/);
    expect(securityVersionProblem('')).toMatch(/whole/);
  });
});

describe('attributes', () => {
  it('ok/good rows have no problems', () => {
    expect(attributeProblems([{ name: 'board', value: 'rev-b' }])).toEqual({});
  });
  it('fail/bad name, twice, value too long', () => {
    expect(
      attributeProblems([
        { name: 'bo ard', value: '' },
        { name: 'chip', value: 'x'.repeat(257) },
        { name: 'chip', value: 'y' },
      ]),
    ).toEqual({
      '0.name': 'must be 1 to 64 letters, digits, dots, underscores or hyphens',
      '1.value': 'must be at most 256 characters',
      '2.name': 'attribute chip is there twice',
    });
  });
  it('ok/empty rows are dropped, names trimmed', () => {
    expect(
      cleanAttributes([
        { name: '', value: '' },
        { name: ' board ', value: 'a' },
      ]),
    ).toEqual([{ name: 'board', value: 'a' }]);
  });
  it('ok/attr is repeated in the query', () => {
    expect(
      pathWithAttributes('/firmware', { operator: 'or', none: undefined }, [
        { name: 'board', value: 'rev b' },
        { name: 'chip', value: 'esp32:s3' },
      ]),
    ).toBe('/firmware?operator=or&attr=board%3Arev+b&attr=chip%3Aesp32%3As3');
    expect(pathWithAttributes('/firmware', {}, [])).toBe('/firmware');
  });
});

describe('display', () => {
  it('ok/sizes', () => {
    expect(formatSize(512)).toBe('512 B');
    expect(formatSize(1536)).toBe('1.5 KiB');
    expect(formatSize(200 * 1024 * 1024)).toBe('200 MiB');
  });
  it('ok/Intel HEX files by their name', () => {
    expect(inputOfFile('app.HEX')).toBe('intel-hex');
    expect(inputOfFile('app.bin')).toBe('binary');
  });
  it('ok/each signing key once; a deleted key said so', () => {
    const sig = (keyId: string, keyName: string | null) => ({
      id: keyId + Math.random(),
      keyId,
      keyName,
      kind: 'manifest' as const,
      size: null,
      createdAt: '',
    });
    expect(signedBy([sig('k1', 'line key'), sig('k1', 'line key'), sig('k2', null)])).toEqual([
      'line key',
      'a deleted key',
    ]);
  });
  it('ok/rollout shares; an empty rollout is all zero', () => {
    const c = { total: 4, pending: 1, downloading: 0, installing: 0, installed: 2, failed: 1 };
    expect(rolloutShares(c).find((s) => s.status === 'installed')).toEqual({
      status: 'installed',
      count: 2,
      percent: 50,
    });
    expect(rolloutShares({ ...c, total: 0, pending: 0, installed: 0, failed: 0 })[0]!.percent).toBe(
      0,
    );
  });
  it('ok/pages', () => {
    expect(pageOf([1, 2, 3, 4, 5], 2, 2)).toEqual([3, 4]);
  });
});
