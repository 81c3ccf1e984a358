import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createProofHeader,
  type EnrolResponse,
  type ProofPurpose,
  type StatusResponse,
} from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers, type TestPrincipal } from '../../server/src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../../server/src/test-helpers/test-databases.js';
import { challenge, register } from '../../server/src/test-helpers/test-devices.js';
import { firmwareApi } from '../../server/src/test-helpers/test-firmware.js';
import { startTestServer, type TestServer } from '../../server/src/test-helpers/test-server.js';
import { parseAgentConfig } from '../src/config/agent-config.js';
import { createCsr } from '../src/identity/csr-builder.js';
import { deviceIdOf } from '../src/identity/device-id.js';
import { identitySigner } from '../src/identity/identity-signer.js';
import { openKeyStore } from '../src/keystore/open-key-store.js';
import { cuttingProxy, tlsDeviceRequest } from '../src/test-helpers/device-https.js';
import { startSwtpm, type Swtpm } from '../src/test-helpers/swtpm.js';
import { fetchImageVia } from '../src/update/image-fetch.js';
import { AgentUpdateHandler } from '../src/update/update-handler.js';
import { readUpdateState } from '../src/update/update-state.js';
import type { UpdateLogger } from '../src/update/update-types.js';

/**
 * The whole device side with the identity key in a TPM (swtpm): the agent's TPM key store makes
 * the key and signs the CSR and every proof; the device enrols with a Trustlink-Proof, opens a
 * bearer session (a TPM key cannot drive Node's TLS client authentication), and the update
 * handler downloads through a connection cut once, verifies, runs a real install hook and
 * reports installed.
 */

const INSTALL = `#!/bin/sh
set -e
cp "$TRUSTLINK_UPDATE_IMAGE" "$1/slot-b"
echo "$TRUSTLINK_UPDATE_SHA256  $1/slot-b" | sha256sum -c --status
`;

let tpm: Swtpm;
beforeAll(async () => {
  tpm = await startSwtpm();
});
afterAll(async () => tpm?.stop());

for (const dialect of TEST_DIALECTS) {
  describe(`agent update with the identity key in swtpm on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-agent-tpm-update-'));
    afterAll(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });
    beforeAll(async () => {
      server = await startTestServer(dialect);
      ({ admin } = await createTestUsers(server));
    });

    it('ok/TPM key: enrol by proof, bearer session, resumed download, install hook, installed', async () => {
      const stateDir = path.join(dir, 'state');
      const slots = path.join(dir, 'slots');
      mkdirSync(slots, { recursive: true });
      writeFileSync(path.join(dir, 'install.sh'), INSTALL);
      chmodSync(path.join(dir, 'install.sh'), 0o755);
      const config = parseAgentConfig(
        {
          platformUrl: server.deviceUrl.replace(/\/$/, ''),
          rootCaFile: path.join(dir, 'root.pem'),
          stateDir,
          // A blob key under the owner primary: each dialect's run has its own, no handle clash.
          keyStore: { type: 'tpm', tcti: tpm.tcti, keyLocation: 'blob' },
          hooks: { install: [path.join(dir, 'install.sh'), slots], timeoutSeconds: 60 },
        },
        path.join(dir, 'agent.json'),
      );
      const store = openKeyStore(config, { env: {}, warn: () => {} });
      const key = await store.getOrCreateIdentityKey();
      const deviceId = deviceIdOf(key.spkiDer);
      const signer = await identitySigner(store);

      const fa = firmwareApi(server, admin);
      const batchId = await fa.batch('TPM devices');
      await register(server, admin, batchId, deviceId);
      const image = randomBytes(900_000);
      const fw = await fa.upload('name=tpm-fw&version=3.1&securityVersion=4', image);
      const signingKey = await fa.signingKey('TPM batch key', 'RSA-3072');
      expect((await fa.assign(batchId, fw.id, signingKey.id)).status).toBe(200);

      /** A POST carrying a proof made by the TPM over exactly this body. */
      const provenPost = async (p: string, purpose: ProofPurpose, body: string) => {
        const proof = await createProofHeader({
          credential: { type: 'spki', der: key.spkiDer },
          purpose,
          nonce: await challenge(server),
          request: { host: '127.0.0.1', method: 'POST', path: p, body: Buffer.from(body) },
          signer,
        });
        return server.deviceRequest('POST', p, {
          body,
          headers: { 'content-type': 'application/json', 'trustlink-proof': proof },
        });
      };
      const csr = await createCsr(store, deviceId);
      const enrolled = await provenPost(
        '/device/v1/enrol',
        'enrol',
        JSON.stringify({ csr: csr.toString('base64url') }),
      );
      expect(enrolled.status, enrolled.text).toBe(200);
      const e = enrolled.json<EnrolResponse>();
      expect(e.signing).toMatchObject({ keyId: signingKey.id, alg: 'PS256' });
      const session = await provenPost('/device/v1/session', 'session', '{}');
      expect(session.status, session.text).toBe(200);
      const token = session.json<{ token: string }>().token;

      const proxy = await cuttingProxy(
        { host: '127.0.0.1', port: Number(new URL(server.deviceUrl).port) },
        400_000,
      );
      try {
        const request = tlsDeviceRequest({
          host: '127.0.0.1',
          port: proxy.port,
          ca: server.rootPem,
          headers: { authorization: `Bearer ${token}` },
        });
        const status = await request('GET', '/device/v1/status');
        expect(status.status).toBe(200);
        const update = ((await status.json()) as StatusResponse).update!;
        const logs: string[] = [];
        const log: UpdateLogger['info'] = (m, f) => logs.push(`${m} ${JSON.stringify(f ?? {})}`);
        const handler = new AgentUpdateHandler({
          device: () => ({
            instanceId: e.instanceId,
            deviceId,
            ...(e.batchId !== undefined ? { batchId: e.batchId } : {}),
            hardware: {},
            signing: e.signing!,
          }),
          backoffMs: () => 50,
        });
        await handler.handle(update, {
          request,
          fetchImage: fetchImageVia(request),
          stateDir,
          config,
          logger: { info: log, warn: log, error: log },
        });
        expect(proxy.cuts()).toBe(1);
        expect(logs.some((l) => l.startsWith('resuming image download'))).toBe(true);
        expect(readFileSync(path.join(slots, 'slot-b')).equals(image)).toBe(true);
        expect(readUpdateState(stateDir)).toMatchObject({ securityVersion: 4 });
        const row = (await fa.rollout(batchId)).items.find((i) => i.deviceId === deviceId);
        expect(row).toMatchObject({ status: 'installed' });
        expect(createHash('sha256').update(image).digest('hex')).toBe(
          (await fa.rollout(batchId)).update?.imageSha256,
        );
      } finally {
        await proxy.close();
      }
    });
  });
}
