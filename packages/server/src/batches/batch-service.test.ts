import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DIALECTS } from '../test-helpers/test-databases.js';
import { deviceIds, openFleet, policyInput, testCtx } from '../test-helpers/test-fleet.js';

for (const dialect of TEST_DIALECTS) {
  describe(`policies and batches on ${dialect}`, () => {
    let fleet: Awaited<ReturnType<typeof openFleet>>;
    let policyId: string;
    beforeAll(async () => {
      fleet = await openFleet(dialect);
      policyId = (await fleet.policies.create(fleet.i1, policyInput(), testCtx)).id;
    });
    afterAll(async () => fleet?.close());

    it('ok/a policy round-trips every field', async () => {
      const p = await fleet.policies.create(
        fleet.i1,
        policyInput({
          name: 'Round trip',
          deviceCertificate: {
            lifetime: { value: 90, unit: 'days' },
            keyTypes: ['P-256', 'RSA-2048'],
            operationalKeyAllowed: true,
            autoRenew: true,
            renewGracePeriod: { value: 2, unit: 'days' },
          },
          issuingCertificate: {
            lifetime: { value: 2, unit: 'years' },
            keyType: 'P-384',
            autoRenew: false,
          },
        }),
        testCtx,
      );
      expect(await fleet.policies.get(fleet.i1, p.id)).toMatchObject({
        name: 'Round trip',
        connectionType: 'iot-hub',
        deviceCertificate: {
          lifetime: { value: 90, unit: 'days' },
          keyTypes: ['P-256', 'RSA-2048'],
          operationalKeyAllowed: true,
          autoRenew: true,
          renewGracePeriod: { value: 2, unit: 'days' },
        },
        issuingCertificate: {
          lifetime: { value: 2, unit: 'years' },
          keyType: 'P-384',
          autoRenew: false,
        },
        jwtLifetime: null,
      });
    });

    const badPolicies: [string, Record<string, unknown>, RegExp][] = [
      [
        'fail/device outlives issuing CA',
        { name: 'x1', deviceCertificate: { lifetime: { value: 6, unit: 'years' } } },
        /must not exceed the issuing certificate lifetime/,
      ],
      [
        'fail/13 months past a 1-year CA',
        {
          name: 'x2',
          deviceCertificate: { lifetime: { value: 13, unit: 'months' } },
          issuingCertificate: { lifetime: { value: 1, unit: 'years' } },
        },
        /must not exceed/,
      ],
      [
        'fail/database direct without connection',
        {
          name: 'x3',
          connectionType: 'database-direct',
          jwtLifetime: { value: 5, unit: 'minutes' },
        },
        /needs a database direct connection/,
      ],
      ['fail/unknown hub', { name: 'x4', hubId: 'nope' }, /IoT hub nope does not exist/],
      [
        'fail/JWT lifetime on a hub policy',
        { name: 'x5', jwtLifetime: { value: 5, unit: 'minutes' } },
        /database direct policies only/,
      ],
    ];
    for (const [name, over, msg] of badPolicies) {
      it(name, async () => {
        await expect(fleet.policies.create(fleet.i1, policyInput(over), testCtx)).rejects.toThrow(
          msg,
        );
        expect((await fleet.policies.list(fleet.i1)).map((p) => p.name)).not.toContain(over.name);
      });
    }

    it('fail/duplicate policy name', async () => {
      await expect(fleet.policies.create(fleet.i1, policyInput(), testCtx)).rejects.toThrow(
        /already exists/,
      );
    });

    it('ok/the same name in another instance is another policy', async () => {
      const p = await fleet.policies.create(fleet.i2, policyInput(), testCtx);
      expect(p.id).not.toBe(policyId);
      await expect(fleet.policies.get(fleet.i2, policyId)).rejects.toThrow(/not found/);
    });

    it('ok/batch with counts; upload, add, repeat upload is harmless', async () => {
      const b = await fleet.batches.create(
        fleet.i1,
        {
          name: 'Line A',
          policyId,
          attributeFilter: { operator: 'and', filters: [{ name: 'board', value: 'rev-c' }] },
        },
        testCtx,
      );
      expect(b.counts).toEqual({ devices: 0, enrolled: 0, renewed: 0, expired: 0, revoked: 0 });
      expect(b.policyName).toBe('Factory line A');
      const ids = deviceIds(5);
      expect(await fleet.batches.register(fleet.i1, b.id, ids, testCtx)).toEqual({
        added: 5,
        alreadyInBatch: 0,
      });
      expect(
        await fleet.batches.register(fleet.i1, b.id, [...ids, ...deviceIds(1)], testCtx),
      ).toEqual({
        added: 1,
        alreadyInBatch: 5,
      });
      expect((await fleet.batches.get(fleet.i1, b.id)).counts.devices).toBe(6);
      const page = await fleet.batches.listDevices(fleet.i1, b.id, { offset: 0, limit: 4 });
      expect(page.total).toBe(6);
      expect(page.items).toHaveLength(4);
      expect(page.items[0]!.state).toBe('registered');
    });

    it('fail/upload reports every bad entry and adds nothing', async () => {
      const a = await fleet.batches.create(
        fleet.i1,
        {
          name: 'Line B',
          policyId,
          attributeFilter: { operator: 'and', filters: [] },
        },
        testCtx,
      );
      const other = await fleet.batches.create(
        fleet.i1,
        {
          name: 'Line C',
          policyId,
          attributeFilter: { operator: 'and', filters: [] },
        },
        testCtx,
      );
      const taken = deviceIds(1)[0]!;
      await fleet.batches.register(fleet.i1, other.id, [taken], testCtx);
      const good = deviceIds(3);
      const list = [good[0], 'xyz', good[1], 'ab'.repeat(31), good[0], taken, 7, good[2]];
      const err = await fleet.batches.register(fleet.i1, a.id, list, testCtx).catch((e) => e);
      expect(err.message).toBe('5 of 8 entries cannot be added; nothing was added');
      expect(err.details.problems).toEqual([
        { entry: 2, value: 'xyz', reason: 'not hexadecimal' },
        {
          entry: 4,
          value: 'ab'.repeat(31),
          reason: 'wrong length: 62 hex digits, a device ID has 64',
        },
        { entry: 5, value: good[0], reason: 'duplicate of entry 1' },
        { entry: 6, value: taken, reason: 'already in batch "Line C"' },
        { entry: 7, value: '7', reason: 'not a string' },
      ]);
      expect((await fleet.batches.get(fleet.i1, a.id)).counts.devices).toBe(0);
    });

    it('ok/100,000 IDs in one upload', async () => {
      const b = await fleet.batches.create(
        fleet.i1,
        {
          name: 'Big',
          policyId,
          attributeFilter: { operator: 'and', filters: [] },
        },
        testCtx,
      );
      const ids = deviceIds(100_000);
      const t0 = performance.now();
      expect(await fleet.batches.register(fleet.i1, b.id, ids, testCtx)).toEqual({
        added: 100_000,
        alreadyInBatch: 0,
      });
      console.log(
        `${dialect}: registered 100,000 device IDs in ${Math.round(performance.now() - t0)} ms`,
      );
      expect((await fleet.batches.get(fleet.i1, b.id)).counts.devices).toBe(100_000);
      // One bad entry at the end rejects all of another 100,000.
      const more = [...deviceIds(99_999), 'nope'];
      await expect(fleet.batches.register(fleet.i1, b.id, more, testCtx)).rejects.toThrow(
        /1 of 100000 entries cannot be added/,
      );
      expect((await fleet.batches.get(fleet.i1, b.id)).counts.devices).toBe(100_000);
    });

    it('fail/a policy in use cannot be deleted; a batch name is unique', async () => {
      await expect(fleet.policies.remove(fleet.i1, policyId, testCtx)).rejects.toThrow(
        /is used by batch/,
      );
      await expect(
        fleet.batches.create(
          fleet.i1,
          {
            name: 'Line A',
            policyId,
            attributeFilter: { operator: 'and', filters: [] },
          },
          testCtx,
        ),
      ).rejects.toThrow(/already exists/);
      await expect(
        fleet.batches.create(
          fleet.i1,
          {
            name: 'Other',
            policyId: 'nope',
            attributeFilter: { operator: 'and', filters: [] },
          },
          testCtx,
        ),
      ).rejects.toThrow(/policy nope does not exist/);
    });

    it('ok/remove a registered device and a batch of registered devices', async () => {
      const b = await fleet.batches.create(
        fleet.i1,
        {
          name: 'Temp',
          policyId,
          attributeFilter: { operator: 'and', filters: [] },
        },
        testCtx,
      );
      const [x, y] = deviceIds(2) as [string, string];
      await fleet.batches.register(fleet.i1, b.id, [x, y], testCtx);
      await fleet.batches.unregister(fleet.i1, b.id, x, testCtx);
      expect((await fleet.batches.get(fleet.i1, b.id)).counts.devices).toBe(1);
      await fleet.batches.remove(fleet.i1, b.id, testCtx);
      await expect(fleet.batches.get(fleet.i1, b.id)).rejects.toThrow(/not found/);
      // The ID is free again for another batch.
      const c = await fleet.batches.create(
        fleet.i1,
        {
          name: 'Temp 2',
          policyId,
          attributeFilter: { operator: 'and', filters: [] },
        },
        testCtx,
      );
      expect(await fleet.batches.register(fleet.i1, c.id, [y], testCtx)).toEqual({
        added: 1,
        alreadyInBatch: 0,
      });
    });
  });
}
