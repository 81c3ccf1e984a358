/**
 * The server side of bench/firmware, in its own process so its CPU time is its own: a test
 * server (SQLite) with a batch of devices holding certificates from the instance PKI, an image
 * assigned to the batch, and device authentication by TLS client certificate looked up in the
 * database on every request (per-device authorisation). Writes what the load generator and
 * nginx need to a JSON file, then serves until SIGTERM.
 *
 *   node --import tsx bench/firmware/fixture.ts <devices> <image bytes> <out.json>
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { toPem } from '../../packages/server/src/pki/certificate-builder.js';
import { createTestUsers } from '../../packages/server/src/test-helpers/test-auth.js';
import {
  createTestDevice,
  firmwareApi,
} from '../../packages/server/src/test-helpers/test-firmware.js';
import { startTestServer } from '../../packages/server/src/test-helpers/test-server.js';

const [devicesArg, sizeArg, out] = process.argv.slice(2);
const N = Number(devicesArg);
const SIZE = Number(sizeArg);

// The product's device authentication (app.ts): the certificate judged once per connection,
// the device and its certificate's status read on every request.
const server = await startTestServer('sqlite');
const { admin } = await createTestUsers(server);
const fa = firmwareApi(server, admin);
const batchId = await fa.batch('Bench');
const devices = [];
for (let i = 0; i < N; i++) devices.push(await createTestDevice(server, batchId));
const image = randomBytes(SIZE);
const fw = await fa.upload('name=bench&version=1', image);
const key = await fa.signingKey('bench', 'P-256');
const assigned = await fa.assign(batchId, fw.id, key.id);
if (assigned.status !== 200) throw new Error(`assign: ${assigned.status} ${assigned.text}`);
const updateId = assigned.json<{ id: string }>().id;
const cas = await server.runtime.pkiServices.caRepo.list(server.runtime.instance.id);
writeFileSync(
  out!,
  JSON.stringify({
    pid: process.pid,
    port: Number(new URL(server.deviceUrl).port),
    rootPem: server.rootPem,
    caBundlePem: cas.map((c) => toPem(Buffer.from(c.der))).join(''),
    updateId,
    imagePath: path.join(server.config.dataDir, 'firmware', server.runtime.instance.id, fw.sha256),
    size: SIZE,
    devices: devices.map((d) => d.tls),
  }),
);
process.on('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
