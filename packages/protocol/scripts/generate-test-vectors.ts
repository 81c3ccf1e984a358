/**
 * Writes packages/protocol/test-vectors/*.json (run: npm run vectors -w packages/protocol).
 * Keys are kept in keys.json and reused, so device IDs and signed-input bytes never change;
 * signatures are re-made (ECDSA and PSS are randomized) and the tests only require them to verify.
 */
import { writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import { challengeVectors } from './vectors/challenge-vectors.js';
import { deviceIdVectors } from './vectors/device-id-vectors.js';
import { manifestVectors } from './vectors/manifest-vectors.js';
import { proofVectors } from './vectors/proof-vectors.js';
import { timeVectors } from './vectors/time-vectors.js';
import { provisioningConfigVectors } from './vectors/provisioning-vectors.js';
import { loadOrCreateKeys } from './vectors/vector-keys.js';

const dir = new URL('../test-vectors/', import.meta.url);

async function write(name: string, value: unknown): Promise<void> {
  const file = new URL(name, dir);
  const options = (await resolveConfig(file.pathname)) ?? {};
  writeFileSync(file, await format(JSON.stringify(value), { ...options, parser: 'json' }));
}

const keys = loadOrCreateKeys(new URL('keys.json', dir).pathname);
await write('keys.json', {
  description: 'Fixed keys of the test vectors (test only: never use them for anything real).',
  keys,
});
await write('device-ids.json', deviceIdVectors(keys));
await write('challenges.json', challengeVectors());
await write('proofs.json', await proofVectors(keys));
await write('manifests.json', await manifestVectors(keys));
await write('time-statements.json', await timeVectors(keys));
await write('provisioning-config.json', provisioningConfigVectors());
