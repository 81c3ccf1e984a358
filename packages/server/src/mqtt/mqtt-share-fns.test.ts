import { describe, expect, it } from 'vitest';
import { createShareGroups } from './mqtt-share-fns.js';

describe('shared subscription groups', () => {
  const all = () => true;

  it('ok/one member of a group takes each message, in turn', () => {
    const g = createShareGroups();
    g.mark('a', 'devices/+/t', 'workers');
    g.mark('b', 'devices/+/t', 'workers');
    const takers: string[] = [];
    for (let i = 0; i < 4; i++) {
      const chosen = g.pick('workers', 'devices/+/t', all);
      for (const c of ['a', 'b'])
        if (
          g.receives(c, 'devices/x/t', (grp, f) =>
            grp === 'workers' && f === 'devices/+/t' ? chosen : undefined,
          )
        )
          takers.push(c);
    }
    expect(takers).toEqual(['a', 'b', 'a', 'b']);
  });

  it('ok/a plain subscription of the same client still gets everything', () => {
    const g = createShareGroups();
    g.mark('a', 'devices/+/t', 'workers');
    g.mark('a', 'devices/#', null);
    expect(g.receives('a', 'devices/x/t', () => 'someone-else')).toBe(true);
  });

  it('ok/disconnected members are skipped; no connected member picks none', () => {
    const g = createShareGroups();
    g.mark('a', 'f', 'grp');
    g.mark('b', 'f', 'grp');
    expect(g.pick('grp', 'f', (c) => c === 'b')).toBe('b');
    expect(g.pick('grp', 'f', (c) => c === 'b')).toBe('b');
    expect(g.pick('grp', 'f', () => false)).toBeUndefined();
  });

  it('fail/a member not chosen does not receive; unmark and drop leave the group', () => {
    const g = createShareGroups();
    g.mark('a', 'f', 'grp');
    g.mark('b', 'f', 'grp');
    expect(g.receives('a', 'f', () => 'b')).toBe(false);
    g.unmark('b', 'f');
    expect(g.pick('grp', 'f', all)).toBe('a');
    g.drop('a');
    expect(g.active).toBe(false);
    expect(g.pick('grp', 'f', all)).toBeUndefined();
  });

  it('ok/re-subscribing a filter plainly takes the client out of the group', () => {
    const g = createShareGroups();
    g.mark('a', 'f', 'grp');
    g.mark('a', 'f', null);
    expect(g.active).toBe(false);
    expect(g.receives('a', 'f', () => undefined)).toBe(true);
  });
});
