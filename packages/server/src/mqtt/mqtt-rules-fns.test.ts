import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RULES,
  accessRulesSchema,
  checkPublish,
  checkSubscribe,
  compileRules,
  expandFilters,
  filterCovered,
  filterProblem,
  parseSharedFilter,
  topicMatches,
  type AccessRules,
} from './mqtt-rules-fns.js';

const me = 'a'.repeat(64);
const other = 'b'.repeat(64);
const shared = { sharedSubscriptions: false };

describe('topicMatches', () => {
  const cases: [string, string, string, boolean][] = [
    ['ok/exact', 'a/b', 'a/b', true],
    ['ok/plus', 'a/+/c', 'a/b/c', true],
    ['ok/hash matches the parent', 'a/#', 'a', true],
    ['ok/hash matches deeper', 'a/#', 'a/b/c', true],
    ['ok/hash alone', '#', 'a/b', true],
    ['ok/empty level', 'a//c', 'a//c', true],
    ['fail/plus does not match two levels', 'a/+', 'a/b/c', false],
    ['fail/shorter topic', 'a/b/c', 'a/b', false],
    ['fail/hash does not match $ topics', '#', '$SYS/x', false],
    ['fail/plus does not match $ topics', '+/x', '$SYS/x', false],
    // A client's own filter is taken as written: `{clientId}` stands for an ID only in rules.
    ['ok/a literal {clientId} level matches itself', 'a/{clientId}', 'a/{clientId}', true],
    ['fail/a literal {clientId} level matches nothing else', 'a/{clientId}', 'a/dev1', false],
  ];
  for (const [name, filter, topic, want] of cases)
    it(name, () => expect(topicMatches(filter, topic)).toBe(want));
});

describe('filterCovered', () => {
  const cases: [string, string, string, boolean][] = [
    ['ok/same filter', 'devices/x/#', 'devices/x/#', true],
    ['ok/narrower literal', 'devices/x/telemetry', 'devices/x/#', true],
    ['ok/parent level is covered by rule hash', 'devices/x', 'devices/x/#', true],
    ['ok/literal under plus', 'devices/x/#', 'devices/+/#', true],
    ['ok/plus under plus', 'devices/+/status', 'devices/+/#', true],
    ['ok/everything under hash', 'a/+/b/#', '#', true],
    ['fail/hash reaches the parent the rule does not', 'devices/#', 'devices/+/#', false],
    ['fail/plus wider than literal', 'devices/+/#', 'devices/x/#', false],
    ['fail/hash wider than literal', 'devices/#', 'devices/x/#', false],
    ['fail/other device', 'devices/y/#', 'devices/x/#', false],
    ['fail/deeper than the rule', 'devices/x/a', 'devices/x', false],
    ['fail/shallower than the rule', 'devices', 'devices/x', false],
    ['fail/root hash', '#', 'devices/#', false],
  ];
  for (const [name, requested, allowed, want] of cases)
    it(name, () => expect(filterCovered(requested, allowed)).toBe(want));
});

describe('checkPublish with the default rules', () => {
  const cases: [string, 'device' | 'tool', string, string, string | true][] = [
    ['ok/device in its own space', 'device', me, `devices/${me}/telemetry`, true],
    ['ok/device on its own root', 'device', me, `devices/${me}`, true],
    ['ok/tool sends a command', 'tool', 'tool-x', `devices/${me}/commands/reboot`, true],
    [
      'fail/device in another device space',
      'device',
      me,
      `devices/${other}/telemetry`,
      'not-allowed',
    ],
    ['fail/device outside devices/', 'device', me, 'broadcast', 'not-allowed'],
    ['fail/tool outside commands', 'tool', 'tool-x', `devices/${me}/telemetry`, 'not-allowed'],
    ['fail/$SYS', 'device', me, '$SYS/broker/x', 'reserved-topic'],
    ['fail/wildcard in a topic', 'device', me, `devices/${me}/+`, 'malformed'],
  ];
  for (const [name, kind, id, topic, want] of cases)
    it(name, () => {
      const r = checkPublish(DEFAULT_RULES, kind, id, topic);
      expect(r.ok ? true : r.reason).toBe(want);
    });
});

describe('checkSubscribe with the default rules', () => {
  const cases: [string, 'device' | 'tool', string, string, string | true][] = [
    ['ok/device own space', 'device', me, `devices/${me}/#`, true],
    ['ok/device own commands', 'device', me, `devices/${me}/commands/+`, true],
    ['ok/tool every device', 'tool', 'tool-x', 'devices/+/#', true],
    ['ok/tool one device', 'tool', 'tool-x', `devices/${me}/telemetry`, true],
    ['fail/device another device', 'device', me, `devices/${other}/#`, 'not-allowed'],
    ['fail/device every device', 'device', me, 'devices/+/#', 'not-allowed'],
    ['fail/device everything', 'device', me, '#', 'not-allowed'],
    ['fail/tool everything', 'tool', 'tool-x', '#', 'not-allowed'],
    ['fail/$SYS', 'tool', 'tool-x', '$SYS/#', 'reserved-topic'],
    ['fail/bad hash', 'device', me, `devices/${me}/#/x`, 'malformed'],
    // Shared subscriptions are judged by their filter part: $share widens nothing.
    [
      'fail/shared with another device filter',
      'device',
      me,
      `$share/g/devices/${other}/#`,
      'not-allowed',
    ],
    ['fail/shared everything', 'tool', 'tool-x', '$share/g/#', 'not-allowed'],
    [
      'fail/shared own filter on a broker without them',
      'device',
      me,
      `$share/g/devices/${me}/#`,
      'shared-subscriptions-unsupported',
    ],
    ['fail/shared without a group', 'device', me, '$share//devices/x', 'malformed'],
    ['fail/shared with a wildcard group', 'device', me, `$share/+/devices/${me}/#`, 'malformed'],
    ['fail/shared of a $ filter', 'device', me, '$share/g/$SYS/#', 'reserved-topic'],
  ];
  for (const [name, kind, id, filter, want] of cases)
    it(name, () => {
      const r = checkSubscribe(DEFAULT_RULES, kind, id, filter, shared);
      expect(r.ok ? true : r.reason).toBe(want);
    });

  it('ok/shared own filter where the broker serves shared subscriptions', () => {
    expect(
      checkSubscribe(DEFAULT_RULES, 'device', me, `$share/g/devices/${me}/#`, {
        sharedSubscriptions: true,
      }),
    ).toEqual({ ok: true });
  });
});

describe('configured rules', () => {
  const rules: AccessRules = accessRulesSchema.parse({
    device: { publish: ['telemetry/{clientId}'], subscribe: ['commands/{clientId}/+'] },
  });

  it('ok/a missing part takes the default', () => {
    expect(rules.tool).toEqual(DEFAULT_RULES.tool);
  });
  it('ok/the device follows the configured rules', () => {
    expect(checkPublish(rules, 'device', me, `telemetry/${me}`).ok).toBe(true);
    expect(checkPublish(rules, 'device', me, `devices/${me}/x`).ok).toBe(false);
    expect(checkSubscribe(rules, 'device', me, `commands/${me}/+`, shared).ok).toBe(true);
    expect(checkSubscribe(rules, 'device', me, `commands/${me}/#`, shared).ok).toBe(false);
  });
  it('ok/no rules means nothing is allowed', () => {
    const none = accessRulesSchema.parse({ device: { publish: [], subscribe: [] } });
    expect(checkPublish(none, 'device', me, `devices/${me}/x`).ok).toBe(false);
  });

  const bad: [string, string][] = [
    ['fail/hash not last', 'a/#/b'],
    ['fail/partial wildcard', 'a/b+'],
    ['fail/partial placeholder', 'a/x{clientId}'],
    ['fail/unknown placeholder', 'a/{deviceId}'],
    ['fail/reserved', '$SYS/#'],
    ['fail/empty', ''],
  ];
  for (const [name, filter] of bad)
    it(name, () => {
      expect(filterProblem(filter, { placeholders: true })).toBeDefined();
      expect(
        accessRulesSchema.safeParse({ device: { publish: [filter], subscribe: [] } }).success,
      ).toBe(false);
    });
});

describe('parseSharedFilter', () => {
  it('ok/splits group and filter', () => {
    expect(parseSharedFilter('$share/g1/a/b/#')).toEqual({
      shared: true,
      group: 'g1',
      filter: 'a/b/#',
    });
  });
  it('ok/plain filter', () => expect(parseSharedFilter('a/b')).toEqual({ shared: false }));
  it('fail/no filter part', () =>
    expect(parseSharedFilter('$share/g1')).toEqual({ shared: 'malformed' }));
});

describe('compiled rules', () => {
  // Every topic and filter below against rules with and without {clientId}: the compiled
  // matcher must answer as the definition does (expand the placeholders, then match).
  const rules: AccessRules = {
    device: {
      publish: ['devices/{clientId}/#', 'fleet/+/{clientId}', 'up/{clientId}'],
      subscribe: ['devices/{clientId}/#', 'fleet/+/{clientId}', 'news/#'],
    },
    tool: { publish: ['devices/+/commands/#'], subscribe: ['devices/+/#', '{clientId}/+'] },
  };
  const topics = [
    `devices/${me}/t`,
    `devices/${other}/t`,
    `devices/${me}`,
    `fleet/x/${me}`,
    `fleet/x/${other}`,
    `fleet/x/${me}/y`,
    `up/${me}`,
    `up/${me}/more`,
    'devices/x/commands/reboot',
    `${me}/status`,
    'news/today',
  ];
  const filters = [...topics, `devices/${me}/#`, 'devices/+/t', '#', `fleet/+/${me}`, 'news/#'];
  const compiled = compileRules(rules);
  for (const kind of ['device', 'tool'] as const) {
    it(`ok/publish answers as the expanded filters do (${kind})`, () => {
      for (const t of topics) {
        const want = expandFilters(rules[kind].publish, me).some((f) => topicMatches(f, t));
        expect(compiled.publish(kind, me, t).ok, t).toBe(want);
      }
    });
    it(`ok/subscribe answers as the expanded filters do (${kind})`, () => {
      for (const f of filters) {
        const want = expandFilters(rules[kind].subscribe, me).some((a) => filterCovered(f, a));
        expect(compiled.subscribe(kind, me, f, shared).ok, f).toBe(want);
      }
    });
  }
  it('fail/a client ID that cannot stand in a topic is refused as before', () => {
    expect(() => compiled.publish('device', 'a/b', 'up/a/b')).toThrow(/client ID/);
  });
});
