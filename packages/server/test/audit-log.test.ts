import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localEnv, runCli } from '../src/test-helpers/test-cli.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

for (const dialect of TEST_DIALECTS) {
  describe(`audit log on ${dialect}`, () => {
    let server: TestServer;
    const id = () => server.runtime.instance.id;
    const verify = () => server.runtime.audit.verify(id());
    const db = () => server.runtime.db.kysely;
    const record = (i: number) =>
      server.runtime.audit.record({
        instanceId: id(),
        actor: { type: 'system', name: 'test' },
        action: 'test.event',
        target: { type: 'thing', id: String(i), name: `thing ${i}` },
        result: 'ok',
        sourceAddress: '192.0.2.7',
        details: { i },
      });
    const row = async (seq: number) =>
      db()
        .selectFrom('audit_log')
        .selectAll()
        .where('instance_id', '=', id())
        .where('seq', '=', seq)
        .executeTakeFirstOrThrow();

    beforeAll(async () => {
      // Checkpoints only when the test asks, so it knows exactly what they cover.
      server = await startTestServer(dialect, { env: { TRUSTLINK_AUDIT_CHECKPOINT_SECONDS: '0' } });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('ok/concurrent writers get gap-free sequence numbers and a valid chain', async () => {
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => record(i)));
      expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 60 }, (_, i) => i + 1),
      );
      const v = await verify();
      expect(v.problems).toEqual([]);
      expect(v).toMatchObject({ ok: true, entries: 60, lastSeq: 60, headSeq: 60 });
    });

    it('ok/a signed checkpoint covers the log; later entries are counted as uncovered', async () => {
      const cp = await server.runtime.audit.checkpoint(id());
      expect(cp?.seq).toBe(60);
      for (let i = 60; i < 65; i++) await record(i);
      const v = await verify();
      expect(v).toMatchObject({
        ok: true,
        checkpoints: 1,
        lastCheckpoint: { seq: 60 },
        uncheckpointed: 5,
      });
    });

    it('ok/paging, time range and text filter', async () => {
      const first = await server.runtime.audit.list(id(), { limit: 30 });
      expect(first.entries[0]!.seq).toBe(65);
      expect(first.nextBefore).toBe(36);
      const second = await server.runtime.audit.list(id(), {
        limit: 30,
        before: first.nextBefore!,
      });
      expect(second.entries[0]!.seq).toBe(35);
      const text = await server.runtime.audit.list(id(), { limit: 10, text: 'THING 42' });
      expect(text.entries.map((e) => e.target?.name)).toEqual(['thing 42']);
      const none = await server.runtime.audit.list(id(), { limit: 10, text: '100%_' });
      expect(none.entries).toEqual([]);
      const future = await server.runtime.audit.list(id(), {
        limit: 10,
        from: '2999-01-01T00:00:00.000Z',
      });
      expect(future.entries).toEqual([]);
    });

    it('fail/an edited row is found and named, by the service and by trustlink audit verify', async () => {
      const before = await row(10);
      await db()
        .updateTable('audit_log')
        .set({ actor_name: 'mallory' })
        .where('instance_id', '=', id())
        .where('seq', '=', 10)
        .execute();
      try {
        const v = await verify();
        expect(v.ok).toBe(false);
        expect(v.problems[0]).toMatchObject({ seq: 10, kind: 'altered' });
        const cli = await runCli(['audit', 'verify'], localEnv(server));
        expect(cli.code).toBe(1);
        expect(cli.stderr).toMatch(/FAILED at seq 10/);
        expect(cli.stderr).toMatch(/entry 10 was altered/);
      } finally {
        await db()
          .updateTable('audit_log')
          .set({ actor_name: before.actor_name })
          .where('instance_id', '=', id())
          .where('seq', '=', 10)
          .execute();
      }
      expect((await verify()).ok).toBe(true);
    });

    it('fail/a deleted row is found and named', async () => {
      const saved = await row(20);
      await db()
        .deleteFrom('audit_log')
        .where('instance_id', '=', id())
        .where('seq', '=', 20)
        .execute();
      try {
        const v = await verify();
        expect(v.problems[0]).toMatchObject({ seq: 20, kind: 'missing' });
        const cli = await runCli(['audit', 'verify'], localEnv(server));
        expect(cli.code).toBe(1);
        expect(cli.stderr).toMatch(/seq 20: entry 20 is missing/);
      } finally {
        await db().insertInto('audit_log').values(saved).execute();
      }
      expect((await verify()).ok).toBe(true);
    });

    it('fail/a cut-off tail is found, even when the head is rewound past the last checkpoint', async () => {
      await db()
        .deleteFrom('audit_log')
        .where('instance_id', '=', id())
        .where('seq', '>', 62)
        .execute();
      let v = await verify();
      expect(v.problems[0]).toMatchObject({ seq: 63, kind: 'truncated' });
      const cli = await runCli(['audit', 'verify'], localEnv(server));
      expect(cli.code).toBe(1);
      expect(cli.stderr).toMatch(/FAILED at seq 63/);

      // A careful attacker also rewinds the chain head; the signed checkpoint at 60 still tells.
      await db()
        .deleteFrom('audit_log')
        .where('instance_id', '=', id())
        .where('seq', '>', 55)
        .execute();
      const last = await row(55);
      await sql`update audit_chain set seq = 55, mac = ${last.mac} where instance_id = ${id()}`.execute(
        db(),
      );
      v = await verify();
      expect(v.problems[0]).toMatchObject({ seq: 56, kind: 'truncated' });
      expect(v.problems[0]!.message).toMatch(/reached seq 60/);
    });

    it('fail/a forged checkpoint is found', async () => {
      await db()
        .updateTable('audit_checkpoints')
        .set({ signature: Buffer.alloc(70, 1).toString('base64') })
        .where('instance_id', '=', id())
        .execute();
      const v = await verify();
      expect(v.problems.map((p) => p.kind)).toContain('checkpoint-invalid');
    });
  });

  describe(`audit entries in a caller's transaction on ${dialect}`, () => {
    let server: TestServer;
    const id = () => server.runtime.instance.id;
    const event = (what: string) => ({
      instanceId: id(),
      actor: { type: 'system' as const, name: 'test' },
      action: 'test.event',
      target: { type: 'thing', id: what, name: what },
      result: 'ok' as const,
      details: { what },
    });

    beforeAll(async () => {
      server = await startTestServer(dialect, { env: { TRUSTLINK_AUDIT_CHECKPOINT_SECONDS: '0' } });
    });
    afterAll(async () => {
      await server?.close();
    });

    // An enrolment appends twice in its transaction (the PKI's entry and the device's); the
    // second append takes the head the first wrote instead of locking it again.
    it('ok/several entries per transaction beside other writers: consecutive, gap-free, a valid chain', async () => {
      const audit = server.runtime.audit;
      const inTx = (n: number) =>
        server.runtime.db.kysely.transaction().execute(async (tx) => {
          const seqs: number[] = [];
          for (let k = 0; k < 3; k++) seqs.push((await audit.record(event(`tx${n}.${k}`), tx)).seq);
          return seqs;
        });
      const [grouped, alone] = await Promise.all([
        Promise.all(Array.from({ length: 15 }, (_, n) => inTx(n))),
        Promise.all(Array.from({ length: 15 }, (_, n) => audit.record(event(`alone${n}`)))),
      ]);
      for (const seqs of grouped) expect(seqs).toEqual([seqs[0], seqs[0]! + 1, seqs[0]! + 2]);
      const all = [...grouped.flat(), ...alone.map((r) => r.seq)].sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      // A rolled-back transaction leaves no entry and no gap; the next append follows on.
      await expect(
        server.runtime.db.kysely.transaction().execute(async (tx) => {
          await audit.record(event('rolled back 1'), tx);
          await audit.record(event('rolled back 2'), tx);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect((await audit.record(event('after'))).seq).toBe(61);
      const v = await audit.verify(id());
      expect(v.problems).toEqual([]);
      expect(v).toMatchObject({ ok: true, entries: 61, lastSeq: 61, headSeq: 61 });
    });
  });
}
