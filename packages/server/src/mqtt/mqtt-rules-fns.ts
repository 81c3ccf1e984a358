import { z } from 'zod';

/**
 * Who may publish and subscribe to what on a hub. Each list holds MQTT topic filters; the
 * level `{clientId}` stands for the connected client's ID (the device ID for devices, the
 * tool's client ID for tools). A publish is allowed when its topic matches a publish filter;
 * a subscription when every topic its filter can match is matched by one subscribe filter.
 */
export interface AccessRules {
  device: { publish: string[]; subscribe: string[] };
  tool: { publish: string[]; subscribe: string[] };
}

/** The placeholder level for the client's own ID. */
export const CLIENT_ID_LEVEL = '{clientId}';

/** The default rules (PROTOCOL.md, "MQTT"). */
export const DEFAULT_RULES: AccessRules = {
  device: { publish: ['devices/{clientId}/#'], subscribe: ['devices/{clientId}/#'] },
  tool: { publish: ['devices/+/commands/#'], subscribe: ['devices/+/#'] },
};

export type ClientKind = keyof AccessRules;

/** Why a filter or topic is malformed, or undefined when it is well formed. */
export function filterProblem(filter: string, opts: { placeholders: boolean }): string | undefined {
  if (filter.length === 0) return 'is empty';
  if (Buffer.byteLength(filter) > 256) return 'is longer than 256 bytes';
  if (filter.includes('\u0000')) return 'holds a NUL character';
  if (filter.startsWith('$')) return 'may not start with $ (reserved for the broker)';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l === '#') {
      if (i !== levels.length - 1) return "'#' may only be the last level";
      continue;
    }
    if (l === '+') continue;
    if (opts.placeholders && l === CLIENT_ID_LEVEL) continue;
    if (l.includes('#') || l.includes('+')) return "wildcards '+' and '#' must fill a whole level";
    if (l.includes('{') || l.includes('}'))
      return opts.placeholders
        ? `the only placeholder is a whole level ${CLIENT_ID_LEVEL}`
        : 'holds { or }';
  }
  return undefined;
}

const filterList = z
  .array(
    z.string().superRefine((f, ctx) => {
      const p = filterProblem(f, { placeholders: true });
      if (p) ctx.addIssue({ code: 'custom', message: `topic filter "${f}" ${p}` });
    }),
  )
  .max(32);

/** Rules as users send them; a missing part takes its default. */
export const accessRulesSchema = z
  .object({
    device: z
      .object({ publish: filterList, subscribe: filterList })
      .strict()
      .default(DEFAULT_RULES.device),
    tool: z
      .object({ publish: filterList, subscribe: filterList })
      .strict()
      .default(DEFAULT_RULES.tool),
  })
  .strict();

/** A client ID that can stand in a topic level: no wildcards, separators or NUL. */
export function isTopicSafeId(id: string): boolean {
  return id.length > 0 && !/[/+#{}]/.test(id) && !id.includes('\u0000') && !id.startsWith('$');
}

/** The filters of one list with `{clientId}` filled in. */
export function expandFilters(filters: string[], clientId: string): string[] {
  if (!isTopicSafeId(clientId)) throw new Error('client ID cannot stand in a topic');
  return filters.map((f) =>
    f
      .split('/')
      .map((l) => (l === CLIENT_ID_LEVEL ? clientId : l))
      .join('/'),
  );
}

/** MQTT topic matching (3.1.1 §4.7): does `filter` match the (wildcard-free) `topic`? */
export function topicMatches(filter: string, topic: string): boolean {
  // Wildcards at the first level never match topics starting with $ [MQTT-4.7.2-1].
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  return levelsMatch(filter.split('/'), topic.split('/'));
}

/**
 * Whether every topic `requested` can match is also matched by `allowed`: the test for a
 * subscription, which must not reach further than the rule that grants it.
 */
export function filterCovered(requested: string, allowed: string): boolean {
  return levelsCovered(requested.split('/'), allowed.split('/'));
}

export type RuleCheck =
  | { ok: true }
  | {
      ok: false;
      reason: 'malformed' | 'reserved-topic' | 'not-allowed' | 'shared-subscriptions-unsupported';
    };

/** A shared subscription `$share/<group>/<filter>` split into its parts (MQTT 5 §4.8.2). */
export function parseSharedFilter(
  filter: string,
): { shared: false } | { shared: true; group: string; filter: string } | { shared: 'malformed' } {
  if (!filter.startsWith('$share/')) return { shared: false };
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return { shared: 'malformed' };
  const group = rest.slice(0, slash);
  if (/[+#]/.test(group)) return { shared: 'malformed' };
  return { shared: true, group, filter: rest.slice(slash + 1) };
}

/**
 * A hub's rules made ready for the broker's hot path: each filter split into levels once, with
 * `{clientId}` left as a level compared with the client's ID at match time, so a publish costs
 * one split of its topic and no per-client copy of the rules is kept (profiled in bench/mqtt:
 * expanding the filters on every publish took a tenth of the broker's CPU at QoS 1).
 */
export interface CompiledRules {
  publish(kind: ClientKind, clientId: string, topic: string): RuleCheck;
  subscribe(
    kind: ClientKind,
    clientId: string,
    filter: string,
    opts: { sharedSubscriptions: boolean },
  ): RuleCheck;
}

/**
 * Does the (wildcard-free) topic, split, match the filter's levels? With a client ID, a
 * `{clientId}` level of a rule stands for it; without one, every level is taken as written.
 */
function levelsMatch(f: string[], t: string[], clientId?: string): boolean {
  for (let i = 0; i < f.length; i++) {
    const l = f[i]!;
    if (l === '#') return true;
    if (i >= t.length) return false;
    if (l === '+') continue;
    if ((l === CLIENT_ID_LEVEL && clientId !== undefined ? clientId : l) !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Is every topic the requested filter (split) can match also matched by `a` (as levelsMatch)? */
function levelsCovered(r: string[], a: string[], clientId?: string): boolean {
  for (let i = 0; i < r.length; i++) {
    const al = a[i];
    if (al === '#') return true;
    if (al === undefined) return false;
    const rl = r[i]!;
    // '#' in the request also matches the parent level, which only '#' in the rule covers.
    if (rl === '#') return false;
    if (al === '+') continue;
    if (rl === '+' || rl !== (al === CLIENT_ID_LEVEL && clientId !== undefined ? clientId : al))
      return false;
  }
  // The request ends; the rule must not demand more levels, except a trailing '#' (which also
  // matches the parent level).
  return a.length === r.length || (a.length === r.length + 1 && a[r.length] === '#');
}

export function compileRules(rules: AccessRules): CompiledRules {
  const split = (list: string[]) => list.map((f) => f.split('/'));
  const lists = {
    device: { publish: split(rules.device.publish), subscribe: split(rules.device.subscribe) },
    tool: { publish: split(rules.tool.publish), subscribe: split(rules.tool.subscribe) },
  };
  const safeId = (clientId: string) => {
    if (!isTopicSafeId(clientId)) throw new Error('client ID cannot stand in a topic');
  };
  return {
    publish(kind, clientId, topic) {
      if (topic.startsWith('$')) return { ok: false, reason: 'reserved-topic' };
      if (!topic || topic.includes('+') || topic.includes('#') || topic.includes('\u0000'))
        return { ok: false, reason: 'malformed' };
      safeId(clientId);
      const t = topic.split('/');
      return lists[kind].publish.some((f) => levelsMatch(f, t, clientId))
        ? { ok: true }
        : { ok: false, reason: 'not-allowed' };
    },
    subscribe(kind, clientId, filter, opts) {
      const shared = parseSharedFilter(filter);
      if (shared.shared === 'malformed') return { ok: false, reason: 'malformed' };
      const inner = shared.shared ? shared.filter : filter;
      if (inner.startsWith('$')) return { ok: false, reason: 'reserved-topic' };
      if (filterProblem(inner, { placeholders: false })) return { ok: false, reason: 'malformed' };
      safeId(clientId);
      const r = inner.split('/');
      if (!lists[kind].subscribe.some((a) => levelsCovered(r, a, clientId)))
        return { ok: false, reason: 'not-allowed' };
      if (shared.shared && !opts.sharedSubscriptions)
        return { ok: false, reason: 'shared-subscriptions-unsupported' };
      return { ok: true };
    },
  };
}

/** May this client publish to `topic`? */
export function checkPublish(
  rules: AccessRules,
  kind: ClientKind,
  clientId: string,
  topic: string,
): RuleCheck {
  return compileRules(rules).publish(kind, clientId, topic);
}

/**
 * May this client subscribe to `filter`? A shared subscription is judged by its filter part
 * with the same rules, so `$share` never widens what a client can read; where the broker
 * cannot serve shared subscriptions (`sharedSubscriptions: false`), an allowed one is still
 * refused, with its own reason.
 */
export function checkSubscribe(
  rules: AccessRules,
  kind: ClientKind,
  clientId: string,
  filter: string,
  opts: { sharedSubscriptions: boolean },
): RuleCheck {
  return compileRules(rules).subscribe(kind, clientId, filter, opts);
}
