import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DIALECTS } from '../test-helpers/test-databases.js';
import { openFleet, policyInput, testCtx } from '../test-helpers/test-fleet.js';
import type { Firmware } from './firmware-types.js';

/** One instance can neither see nor touch another's firmware, blobs or rollouts. */
for (const dialect of TEST_DIALECTS) {
  describe(`firmware instance isolation on ${dialect}`, () => {
    let fleet: Awaited<ReturnType<typeof openFleet>>;
    let fw: Firmware;
    let batchId: string;
    let keyId: string;
    const image = randomBytes(5000);

    beforeAll(async () => {
      fleet = await openFleet(dialect);
      const { firmware, pkiServices } = fleet.server.runtime;
      fw = await firmware.catalog.upload(
        fleet.i1,
        {
          name: 'Only mine',
          description: '',
          version: '1',
          securityVersion: 0,
          format: 'raw',
          input: 'binary',
          attributes: [],
        },
        [image],
        testCtx,
      );
      const policy = await fleet.policies.create(fleet.i1, policyInput(), testCtx);
      batchId = (
        await fleet.batches.create(
          fleet.i1,
          { name: 'B', policyId: policy.id, attributeFilter: { operator: 'and', filters: [] } },
          testCtx,
        )
      ).id;
      keyId = (await pkiServices.signingKeys.generate(fleet.i1, { name: 'k', algorithm: 'P-256' }))
        .id;
      await firmware.rollouts.assign(
        fleet.i1,
        batchId,
        { firmwareId: fw.id, signingKeyId: keyId },
        testCtx,
      );
    });
    afterAll(async () => fleet?.close());

    it('fail/the other instance sees no firmware, image or rollout', async () => {
      const { catalog, rollouts, blobs } = fleet.server.runtime.firmware;
      expect(await catalog.list(fleet.i2)).toEqual([]);
      await expect(catalog.get(fleet.i2, fw.id)).rejects.toThrow(/not found/);
      await expect(catalog.image(fleet.i2, fw.id)).rejects.toThrow(/not found/);
      expect(await blobs.stat(fleet.i2, fw.sha256)).toBeUndefined();
      await expect(rollouts.rollout(fleet.i2, batchId, { offset: 0, limit: 10 })).rejects.toThrow(
        /not found/,
      );
    });

    it('fail/the other instance cannot change, delete or assign it', async () => {
      const { catalog, rollouts } = fleet.server.runtime.firmware;
      await expect(catalog.edit(fleet.i2, fw.id, { name: 'x' }, testCtx)).rejects.toThrow(
        /not found/,
      );
      await expect(catalog.remove(fleet.i2, fw.id, testCtx)).rejects.toThrow(/not found/);
      await expect(
        rollouts.assign(fleet.i2, batchId, { firmwareId: fw.id, signingKeyId: keyId }, testCtx),
      ).rejects.toThrow(/not found/);
      const other = await fleet.policies.create(fleet.i2, policyInput(), testCtx);
      const b2 = await fleet.batches.create(
        fleet.i2,
        { name: 'B', policyId: other.id, attributeFilter: { operator: 'and', filters: [] } },
        testCtx,
      );
      // Its own batch exists, but neither the firmware nor the key of the first instance do.
      await expect(
        rollouts.assign(fleet.i2, b2.id, { firmwareId: fw.id, signingKeyId: keyId }, testCtx),
      ).rejects.toThrow(/unknown firmware/);
      expect((await catalog.get(fleet.i1, fw.id)).name).toBe('Only mine');
      expect(
        (await rollouts.rollout(fleet.i1, batchId, { offset: 0, limit: 10 })).update,
      ).not.toBeNull();
    });

    it('fail/a device of the other instance is never told about the update', async () => {
      const { devices } = fleet.server.runtime.firmware;
      const u = (
        await fleet.server.runtime.firmware.rollouts.rollout(fleet.i1, batchId, {
          offset: 0,
          limit: 1,
        })
      ).update!;
      await expect(
        devices.manifest({ instanceId: fleet.i2, deviceId: 'a'.repeat(64), batchId }, u.id),
      ).rejects.toThrow(/no such update/);
    });
  });
}
