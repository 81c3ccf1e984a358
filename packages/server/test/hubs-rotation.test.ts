import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { rotateMasterKey } from '../src/secrets/master-key-rotation.js';
import { sealedKeyId } from '../src/secrets/secret-box.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { testCtx } from '../src/test-helpers/test-fleet.js';
import { startTestServer, testConfig } from '../src/test-helpers/test-server.js';

const silent = { info: () => undefined };

for (const dialect of TEST_DIALECTS) {
  describe(`master-key rotation with IoT hub secrets on ${dialect}`, () => {
    it('ok/hub secrets are re-sealed under the new key and still open', async () => {
      const first = await startTestServer(dialect);
      const i = first.runtime.instance.id;
      const hub = await first.runtime.hubs.hubs.create(
        i,
        {
          name: 'Azure fleet',
          type: 'azure-iot-hub',
          settings: {
            hostName: '93.184.216.34',
            sharedAccessPolicyName: 'registryReadWrite',
            sharedAccessKey: 'c2VjcmV0LWtleQ==',
            rootCertificate: null,
            authentication: 'thumbprint',
            apiEndpoint: null,
            apiCaCertificate: null,
          },
        },
        testCtx,
      );
      const sealedWith = async (d: typeof first) =>
        sealedKeyId(
          Buffer.from(
            (
              await d.runtime.db.kysely
                .selectFrom('hubs')
                .select('secrets')
                .where('id', '=', hub.id)
                .executeTakeFirstOrThrow()
            ).secrets,
          ),
        );
      const before = await sealedWith(first);
      await first.close({ keepData: true });

      const db = await openDatabase(first.database.url);
      const result = await rotateMasterKey(testConfig(first.home, first.database.url), db, silent);
      await db.close();
      expect(result.newKeyId).not.toBe(before);

      const second = await startTestServer(dialect, { database: first.database, home: first.home });
      try {
        expect(await sealedWith(second)).toBe(result.newKeyId);
        expect(await second.runtime.hubs.hubs.secretsOf(i, hub.id)).toEqual({
          sharedAccessKey: 'c2VjcmV0LWtleQ==',
        });
      } finally {
        await second.close();
      }
    });
  });
}
