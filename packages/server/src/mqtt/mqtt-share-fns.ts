import { topicMatches } from './mqtt-rules-fns.js';

/**
 * Shared subscription groups of one hub (MQTT 5 §4.8.2). aedes has no shared subscriptions,
 * so the hub broker subscribes each member to the group's plain filter and, for every
 * message, lets only one connected member of each matching group take it. This keeps the
 * group state: which filter of which client belongs to which group (or to none: a plain
 * subscription), and whose turn it is.
 */
export function createShareGroups() {
  /** clientId → filter → group (null: a plain subscription). */
  const byClient = new Map<string, Map<string, string | null>>();
  /** "group\0filter" → members. */
  const members = new Map<string, Set<string>>();
  const turn = new Map<string, number>();
  const keyOf = (group: string, filter: string) => `${group}\u0000${filter}`;

  function unmark(clientId: string, filter: string): void {
    const mine = byClient.get(clientId);
    const group = mine?.get(filter);
    if (group === undefined) return;
    mine!.delete(filter);
    if (mine!.size === 0) byClient.delete(clientId);
    if (group === null) return;
    const k = keyOf(group, filter);
    const set = members.get(k);
    set?.delete(clientId);
    if (set && set.size === 0) {
      members.delete(k);
      turn.delete(k);
    }
  }

  return {
    /** Records that `clientId` subscribed to `filter`, in `group` or plainly (null). */
    mark(clientId: string, filter: string, group: string | null): void {
      unmark(clientId, filter);
      let mine = byClient.get(clientId);
      if (!mine) byClient.set(clientId, (mine = new Map()));
      mine.set(filter, group);
      if (group === null) return;
      const k = keyOf(group, filter);
      let set = members.get(k);
      if (!set) members.set(k, (set = new Set()));
      set.add(clientId);
    },
    unmark,
    /** Forgets every subscription of a client (its session ended or was dropped). */
    drop(clientId: string): void {
      for (const filter of [...(byClient.get(clientId)?.keys() ?? [])]) unmark(clientId, filter);
    },
    /** Whether any client holds a shared subscription (the fast path skips the rest). */
    get active(): boolean {
      return members.size > 0;
    },
    /**
     * Picks the next member of a group among those `isConnected` says are connected (round
     * robin), or undefined when none is.
     */
    pick(group: string, filter: string, isConnected: (clientId: string) => boolean) {
      const k = keyOf(group, filter);
      const live = [...(members.get(k) ?? [])].filter(isConnected);
      if (!live.length) return undefined;
      const n = turn.get(k) ?? 0;
      turn.set(k, n + 1);
      return live[n % live.length];
    },
    /**
     * Should `clientId` get a message on `topic`? Yes when one of its plain subscriptions
     * matches, or when the broker routed it here and nothing is known of its subscriptions;
     * otherwise only when `chosen` names it for one of its matching groups.
     */
    receives(
      clientId: string,
      topic: string,
      chosen: (group: string, filter: string) => string | undefined,
    ): boolean {
      const mine = byClient.get(clientId);
      if (!mine) return true;
      const matching = [...mine].filter(([f]) => topicMatches(f, topic));
      if (!matching.length) return true;
      if (matching.some(([, g]) => g === null)) return true;
      return matching.some(([f, g]) => chosen(g!, f) === clientId);
    },
  };
}
export type ShareGroups = ReturnType<typeof createShareGroups>;
