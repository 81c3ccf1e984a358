import { describe, expect, it } from 'vitest';
import {
  firmwareTopic,
  firmwareUpdateMessage,
  manifestNeedsRenewal,
  manifestTimes,
  matchesAttributeFilter,
  parseAttributeParam,
  statusTransition,
} from './firmware-fns.js';
import type { UpdateStatus } from './firmware-types.js';

describe('parseAttributeParam', () => {
  it('ok/name and value; the value may hold colons', () => {
    expect(parseAttributeParam('board:tl-gw-2')).toEqual({
      ok: true,
      attribute: { name: 'board', value: 'tl-gw-2' },
    });
    expect(parseAttributeParam('url:http://x:1')).toEqual({
      ok: true,
      attribute: { name: 'url', value: 'http://x:1' },
    });
    expect(parseAttributeParam('empty:')).toEqual({
      ok: true,
      attribute: { name: 'empty', value: '' },
    });
  });
  for (const [name, text] of [
    ['fail/no colon', 'board'],
    ['fail/an empty name', ':x'],
    ['fail/a space in the name', 'my board:x'],
    ['fail/a value too long', `a:${'x'.repeat(257)}`],
  ] as const) {
    it(name, () => expect(parseAttributeParam(text).ok).toBe(false));
  }
});

describe('matchesAttributeFilter', () => {
  const attrs = [
    { name: 'board', value: 'tl-gw-2' },
    { name: 'soc', value: 'imx8mm' },
  ];
  const cases: [string, 'and' | 'or', [string, string][], boolean][] = [
    ['ok/an empty filter passes', 'and', [], true],
    [
      'ok/and: every pair present',
      'and',
      [
        ['board', 'tl-gw-2'],
        ['soc', 'imx8mm'],
      ],
      true,
    ],
    [
      'fail/and: one pair missing',
      'and',
      [
        ['board', 'tl-gw-2'],
        ['soc', 'esp32'],
      ],
      false,
    ],
    [
      'ok/or: one pair present',
      'or',
      [
        ['board', 'x'],
        ['soc', 'imx8mm'],
      ],
      true,
    ],
    [
      'fail/or: no pair present',
      'or',
      [
        ['board', 'x'],
        ['soc', 'y'],
      ],
      false,
    ],
    ['fail/values compare exactly', 'and', [['board', 'TL-GW-2']], false],
  ];
  for (const [name, operator, pairs, want] of cases) {
    it(name, () =>
      expect(
        matchesAttributeFilter(attrs, {
          operator,
          filters: pairs.map(([n, value]) => ({ name: n, value })),
        }),
      ).toBe(want),
    );
  }
});

describe('statusTransition', () => {
  const moves: [UpdateStatus, UpdateStatus, boolean][] = [
    ['pending', 'downloading', true],
    ['pending', 'installed', true],
    ['pending', 'failed', true],
    ['downloading', 'installing', true],
    ['installing', 'installed', true],
    ['installing', 'failed', true],
    ['downloading', 'downloading', false],
    ['installing', 'downloading', false],
    ['installed', 'failed', false],
    ['failed', 'installed', false],
    ['failed', 'downloading', false],
  ];
  for (const [from, to, ok] of moves) {
    it(`${ok ? 'ok' : 'fail'}/${from} to ${to}`, () =>
      expect(statusTransition(from, to).move).toBe(ok));
  }
});

describe('manifest times', () => {
  it('ok/whole seconds; renewed after half the lifetime', () => {
    const t = manifestTimes(new Date('2026-03-01T12:00:00.750Z'), 3600);
    expect(t).toEqual({
      issuedAt: '2026-03-01T12:00:00.000Z',
      expiresAt: '2026-03-01T13:00:00.000Z',
    });
    expect(manifestNeedsRenewal(t.issuedAt, t.expiresAt, new Date('2026-03-01T12:29:59Z'))).toBe(
      false,
    );
    expect(manifestNeedsRenewal(t.issuedAt, t.expiresAt, new Date('2026-03-01T12:30:00Z'))).toBe(
      true,
    );
  });
});

describe('firmware MQTT message', () => {
  it("ok/the topic is the device's, the message the check-in's update object", () => {
    expect(firmwareTopic('ab12')).toBe('devices/ab12/firmware');
    expect(JSON.parse(firmwareUpdateMessage('u-1').toString())).toEqual({
      update: { id: 'u-1', manifestUrl: '/device/v1/updates/u-1/manifest' },
    });
  });
});
