import { describe, expect, it } from 'vitest';
import { createChainVerifier, entryMac, genesisMac, type CheckedCheckpoint } from './audit-fns.js';
import type { ChainEntry } from './audit-types.js';

const KEY = Buffer.alloc(32, 7);
const INSTANCE = 'inst-1';

/** A well-formed chain of n entries. */
function chain(n: number): ChainEntry[] {
  const out: ChainEntry[] = [];
  let prev = genesisMac(KEY, INSTANCE);
  for (let seq = 1; seq <= n; seq++) {
    const fields = {
      seq,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      actorType: 'user',
      actorId: 'u1',
      actorName: 'alice',
      action: 'user.create',
      targetType: 'user',
      targetId: `t${seq}`,
      targetName: `bob${seq}`,
      result: 'ok',
      sourceAddress: '192.0.2.1',
      details: '{}',
    };
    prev = entryMac(KEY, INSTANCE, prev, fields);
    out.push({ ...fields, mac: prev });
  }
  return out;
}

const cp = (e: ChainEntry, signatureValid = true): CheckedCheckpoint => ({
  seq: e.seq,
  mac: e.mac,
  at: e.at,
  keyId: 'k',
  signature: 'sig',
  signatureValid,
});

function verify(
  entries: ChainEntry[],
  head: { seq: number; mac: string } | undefined,
  cps: CheckedCheckpoint[] = [],
) {
  const v = createChainVerifier(KEY, INSTANCE);
  const last = entries[entries.length - 1]?.seq ?? 0;
  v.add(
    entries,
    cps.filter((c) => c.seq <= last),
  );
  return v.finish(
    head,
    cps.filter((c) => c.seq > last),
  );
}

const headOf = (entries: ChainEntry[]) => ({
  seq: entries[entries.length - 1]!.seq,
  mac: entries[entries.length - 1]!.mac,
});

describe('audit chain verifier', () => {
  it('ok/an untouched chain with checkpoints', () => {
    const c = chain(10);
    const r = verify(c, headOf(c), [cp(c[4]!), cp(c[9]!)]);
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({
      ok: true,
      entries: 10,
      lastSeq: 10,
      checkpoints: 2,
      uncheckpointed: 0,
    });
    expect(r.lastCheckpoint?.seq).toBe(10);
  });

  it('ok/an empty log', () => {
    const r = verify([], { seq: 0, mac: genesisMac(KEY, INSTANCE) });
    expect(r.ok).toBe(true);
  });

  it('fail/an edited field is named by its seq', () => {
    const c = chain(10);
    c[3] = { ...c[3]!, actorName: 'mallory' };
    const r = verify(c, headOf(c));
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([expect.objectContaining({ seq: 4, kind: 'altered' })]);
  });

  it('fail/an edited entry with a recomputed MAC without the key', () => {
    const c = chain(10);
    const forged = { ...c[3]!, result: 'denied' };
    c[3] = { ...forged, mac: entryMac(Buffer.alloc(32), INSTANCE, c[2]!.mac, forged) };
    const r = verify(c, headOf(c));
    expect(r.problems.map((p) => [p.seq, p.kind])).toContainEqual([4, 'altered']);
  });

  it('fail/a deleted entry in the middle', () => {
    const c = chain(10);
    c.splice(6, 1);
    const r = verify(c, headOf(c));
    expect(r.problems[0]).toMatchObject({ seq: 7, kind: 'missing' });
    expect(r.problems[0]!.message).toMatch(/entry 7 is missing/);
  });

  it('fail/deleted entries at the start', () => {
    const c = chain(5).slice(2);
    expect(verify(c, headOf(c)).problems[0]).toMatchObject({ seq: 1, kind: 'missing' });
  });

  it('fail/the tail cut off (head still names the old end)', () => {
    const c = chain(10);
    const head = headOf(c);
    const r = verify(c.slice(0, 7), head);
    expect(r.problems[0]).toMatchObject({ seq: 8, kind: 'truncated' });
    expect(r.problems[0]!.message).toMatch(/entries 8 to 10/);
  });

  it('fail/the tail cut off and the head rewound: the signed checkpoint still tells', () => {
    const c = chain(10);
    const cut = c.slice(0, 7);
    const r = verify(cut, headOf(cut), [cp(c[8]!)]);
    expect(r.problems[0]).toMatchObject({ seq: 8, kind: 'truncated' });
    expect(r.problems[0]!.message).toMatch(/reached seq 9/);
  });

  it('fail/a forged checkpoint signature', () => {
    const c = chain(3);
    expect(verify(c, headOf(c), [cp(c[1]!, false)]).problems[0]).toMatchObject({
      seq: 2,
      kind: 'checkpoint-invalid',
    });
  });

  it('fail/an entry replaced with a different MAC than the checkpoint signed', () => {
    const c = chain(3);
    const signed = cp(c[1]!);
    const r = verify(c, headOf(c), [{ ...signed, mac: 'ab'.repeat(32) }]);
    expect(r.problems[0]).toMatchObject({ seq: 2, kind: 'checkpoint-mismatch' });
  });

  it('fail/rows added beyond the head', () => {
    const c = chain(5);
    expect(verify(c, headOf(c.slice(0, 4))).problems[0]).toMatchObject({
      seq: 5,
      kind: 'head-mismatch',
    });
  });

  it('fail/missing head', () => {
    expect(verify(chain(2), undefined).ok).toBe(false);
  });

  it('ok/rows cannot move between instances', () => {
    const c = chain(3);
    const v = createChainVerifier(KEY, 'other-instance');
    v.add(c);
    expect(v.finish(headOf(c)).problems[0]).toMatchObject({ seq: 1, kind: 'altered' });
  });
});
