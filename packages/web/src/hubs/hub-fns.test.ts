import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RULES,
  base64Bytes,
  filterListProblem,
  filterProblem,
  filtersOfText,
  hostProblem,
  hubNameProblem,
  hubTile,
  managedDirectoryProblem,
  pemCertificatesProblem,
  portProblem,
  rulesOf,
  secretsToSend,
  settingsFieldErrors,
  zipName,
} from './hub-fns';
import type { Hub } from './hub-types';

describe('hub fields, as the server checks them', () => {
  it.each([
    ['ok/name', 'Plant broker_1', undefined],
    ['fail/name empty', ' ', 'is required'],
    ['fail/name with slash', 'a/b', 'may hold letters, digits, spaces, dot, underscore and hyphen'],
    ['fail/name too long', 'n'.repeat(65), 'must be at most 64 characters'],
  ])('%s', (_n, v, want) => expect(hubNameProblem(v)).toBe(want));

  it('ok/hosts and ports', () => {
    expect(hostProblem('mqtt.example.com')).toBeUndefined();
    expect(hostProblem('10.0.0.5')).toBeUndefined();
    expect(hostProblem('https://mqtt.example.com')).toMatch(/no scheme/);
    expect(hostProblem('host:8883')).toMatch(/no scheme, port/);
    expect(portProblem(8883)).toBeUndefined();
    expect(portProblem(0)).toMatch(/1 to 65535/);
    expect(portProblem('')).toMatch(/1 to 65535/);
  });

  it('ok/managed directory is one safe name', () => {
    expect(managedDirectoryProblem('plant-1')).toBeUndefined();
    expect(managedDirectoryProblem('../etc')).toMatch(/one directory name/);
    expect(managedDirectoryProblem('a..b')).toBe('must not contain ..');
    expect(managedDirectoryProblem('Upper')).toMatch(/lower-case/);
  });

  it('ok/PEM bundles: certificates only', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    expect(pemCertificatesProblem(cert)).toBeUndefined();
    expect(pemCertificatesProblem('hello')).toBe('must hold PEM certificates');
    expect(
      pemCertificatesProblem(`${cert}\n-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----`),
    ).toBe('must not hold a private key');
  });
});

describe('topic filters', () => {
  it.each([
    ['ok/placeholder level', 'devices/{clientId}/#', undefined],
    ['ok/plus', 'devices/+/status', undefined],
    ['fail/hash not last', 'a/#/b', "'#' may only be the last level"],
    ['fail/partial wildcard', 'a/b+', "wildcards '+' and '#' must fill a whole level"],
    ['fail/dollar', '$SYS/x', 'may not start with $ (reserved for the broker)'],
    ['fail/other placeholder', 'a/{id}', 'the only placeholder is a whole level {clientId}'],
    ['fail/empty', '', 'is empty'],
  ])('%s', (_n, f, want) => expect(filterProblem(f)).toBe(want));

  it('ok/lines become filters; the first bad one is named', () => {
    expect(filtersOfText(' a/# \n\n b/+ ')).toEqual(['a/#', 'b/+']);
    expect(filterListProblem(['a/#', 'x/#/y'])).toBe(
      `topic filter "x/#/y" '#' may only be the last level`,
    );
    expect(filterListProblem(Array.from({ length: 33 }, () => 'a'))).toBe('at most 32 filters');
  });

  it('ok/rules of a hub, defaults when it has none', () => {
    const hub = (settings: Record<string, unknown>): Hub => ({
      id: 'h',
      name: 'h',
      type: 'mqtt',
      settings,
      secrets: {},
      createdAt: '',
      updatedAt: '',
    });
    expect(rulesOf(hub({}))).toEqual(DEFAULT_RULES);
    expect(
      rulesOf(
        hub({
          rules: {
            device: { publish: ['a'], subscribe: [] },
            tool: { publish: [], subscribe: [] },
          },
        }),
      ).device.publish,
    ).toEqual(['a']);
  });
});

describe('secrets are write-only', () => {
  it('ok/a typed value is sent; an empty or obscured box keeps the stored one', () => {
    expect(
      secretsToSend({ apiToken: 'new', key: '', other: '********' }, ['apiToken', 'key', 'other']),
    ).toEqual({ apiToken: 'new' });
  });
});

describe('dashboard tile', () => {
  const check = (name: string, ok: boolean) => ({
    id: name,
    name,
    type: 'mqtt',
    ok,
    detail: ok ? 'listening' : 'refused',
    checkedAt: '',
  });
  it('ok/all answer: green N of N', () => {
    expect(
      hubTile({ reachable: 2, total: 2, hubs: [check('a', true), check('b', true)] }),
    ).toMatchObject({
      colour: 'green',
      summary: '2 of 2',
    });
  });
  it('ok/some: orange, each hub in the details', () => {
    const t = hubTile({ reachable: 1, total: 2, hubs: [check('a', true), check('b', false)] });
    expect(t).toMatchObject({ colour: 'orange', summary: '1 of 2' });
    expect(t.detail).toContain('b: fails (refused)');
  });
  it('ok/none answer: red; none configured: gray', () => {
    expect(hubTile({ reachable: 0, total: 1, hubs: [check('a', false)] }).colour).toBe('red');
    expect(hubTile({ reachable: 0, total: 0, hubs: [] })).toMatchObject({
      colour: 'gray',
      summary: 'None',
    });
  });
});

describe('tool zips', () => {
  it('ok/the file name as the server gives it; base64 decodes to bytes', () => {
    expect(zipName('Node RED/1')).toBe('Node_RED_1.zip');
    expect(zipName('')).toBe('tool.zip');
    expect([...base64Bytes(btoa('PK\u0003\u0004'))]).toEqual([0x50, 0x4b, 3, 4]);
  });
});

describe('server complaints beside the fields', () => {
  it('ok/nested paths go to their field; the rest apart', () => {
    expect(
      settingsFieldErrors(
        [
          { path: 'body.settings.rules.device.publish.0', message: 'bad filter' },
          { path: 'settings.managedDirectory', message: 'managed Mosquitto is off' },
          { path: 'body.name', message: 'is required' },
          { path: 'body.settings.colour', message: 'unknown' },
        ],
        ['rules.device.publish', 'managedDirectory'],
      ),
    ).toEqual({
      byField: {
        'rules.device.publish': 'bad filter',
        managedDirectory: 'managed Mosquitto is off',
        name: 'is required',
      },
      other: ['settings.colour: unknown'],
    });
  });
});
