import { execFileSync } from 'node:child_process';
import { constants, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createProofHeader, issueChallenge, verifyProof } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identitySigner } from '../src/identity/identity-signer.js';
import { parseAgentConfig } from '../src/config/agent-config.js';
import { createCsr, toPem } from '../src/identity/csr-builder.js';
import { deviceIdOf } from '../src/identity/device-id.js';
import {
  KeyStoreRefusedError,
  KeyStoreUnavailableError,
  NoIdentityKeyError,
} from '../src/keystore/key-store-errors.js';
import type { IdentityKeyStore, KeyType } from '../src/keystore/key-store-types.js';
import { openKeyStore } from '../src/keystore/open-key-store.js';
import { expectNoPrivateKeyFiles, opensslVerifyCsr } from '../src/test-helpers/key-store-checks.js';
import { startSwtpm, type Swtpm } from '../src/test-helpers/swtpm.js';

let tpm: Swtpm;
const dirs: string[] = [];

beforeAll(async () => {
  tpm = await startSwtpm();
});
afterAll(async () => {
  await tpm?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'trustlink-agent-tpm-'));
  dirs.push(d);
  return d;
}

/** A TPM key store as the agent opens it from a configuration file. */
function tpmStore(
  keyStore: Record<string, unknown>,
  stateDir = tempDir(),
): { store: IdentityKeyStore; stateDir: string } {
  const config = parseAgentConfig(
    {
      platformUrl: 'https://devices.example.test:8444',
      rootCaFile: 'root.pem',
      stateDir,
      keyStore: { type: 'tpm', tcti: tpm.tcti, ...keyStore },
    },
    path.join(stateDir, 'agent.json'),
  );
  return { store: openKeyStore(config, { env: {}, warn: () => {} }), stateDir };
}

function tpm2(args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, TPM2TOOLS_TCTI: tpm.tcti },
  });
}

function verifies(spki: Buffer, data: Buffer, sig: Buffer, hash: string, pss = false): boolean {
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return pss
    ? verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)
    : verify(hash, data, key, sig);
}

const cases: { name: string; keyType: KeyType; keyStore: Record<string, unknown> }[] = [
  { name: 'ok/P-256 persistent (default)', keyType: 'P-256', keyStore: {} },
  {
    name: 'ok/P-384 persistent',
    keyType: 'P-384',
    keyStore: { keyType: 'P-384', persistentHandle: '0x81010003' },
  },
  {
    name: 'ok/RSA-2048 persistent',
    keyType: 'RSA-2048',
    keyStore: { keyType: 'RSA-2048', persistentHandle: '0x81010004' },
  },
  {
    name: 'ok/P-256 blob under the owner primary',
    keyType: 'P-256',
    keyStore: { keyLocation: 'blob' },
  },
  {
    name: 'ok/P-256 blob under the endorsement primary',
    keyType: 'P-256',
    keyStore: { keyLocation: 'blob', parent: 'endorsement' },
  },
];

describe('tpm key store (swtpm + tpm2-tools)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { store, stateDir } = tpmStore(c.keyStore);
      expect(await store.publicKey()).toBeNull();
      await expect(store.sign(Buffer.from('x'), 'ecdsa-sha256')).rejects.toThrow(
        NoIdentityKeyError,
      );

      const first = await store.getOrCreateIdentityKey();
      expect(first.created).toBe(true);
      expect(first.keyType).toBe(c.keyType);
      const again = await store.getOrCreateIdentityKey();
      expect(again.created).toBe(false);
      expect(again.spkiDer.equals(first.spkiDer)).toBe(true);
      expect(deviceIdOf(again.spkiDer)).toBe(deviceIdOf(first.spkiDer));
      // A second store opened from the same configuration finds the same key.
      const reopened = tpmStore(c.keyStore, stateDir).store;
      expect((await reopened.publicKey())!.spkiDer.equals(first.spkiDer)).toBe(true);

      const data = Buffer.from('trustlink-proof-v1 test message');
      if (c.keyType.startsWith('P-')) {
        const scheme = c.keyType === 'P-256' ? 'ecdsa-sha256' : 'ecdsa-sha384';
        const sig = await store.sign(data, scheme);
        expect(sig[0]).toBe(0x30); // DER
        expect(
          verifies(first.spkiDer, data, sig, c.keyType === 'P-256' ? 'sha256' : 'sha384'),
        ).toBe(true);
        await expect(
          store.sign(data, c.keyType === 'P-256' ? 'ecdsa-sha384' : 'ecdsa-sha256'),
        ).rejects.toThrow(/does not fit/);
      } else {
        const pss = await store.sign(data, 'rsa-pss-sha256');
        expect(verifies(first.spkiDer, data, pss, 'sha256', true)).toBe(true);
        const pkcs1 = await store.sign(data, 'rsa-pkcs1-sha256');
        expect(verifies(first.spkiDer, data, pkcs1, 'sha256')).toBe(true);
      }

      // A proof of possession made through the TPM passes the protocol's own verifier.
      const challengeKey = Buffer.alloc(32, 9);
      const now = new Date('2026-11-25T12:00:00Z');
      const request = {
        host: 'devices.example.test',
        method: 'POST',
        path: '/device/v1/enrol',
        body: Buffer.from('{}'),
      };
      const header = await createProofHeader({
        credential: { type: 'spki', der: first.spkiDer },
        purpose: 'enrol',
        nonce: issueChallenge(challengeKey, now).nonce,
        request,
        signer: await identitySigner(store),
      });
      const proof = verifyProof(header, request, { purpose: 'enrol', challengeKey, now });
      expect(proof.ok && proof.deviceId).toBe(deviceIdOf(first.spkiDer));

      const id = deviceIdOf(first.spkiDer);
      const subject = opensslVerifyCsr(toPem(await createCsr(store, id)));
      expect(subject).toContain(`CN = ${id}`);
      expectNoPrivateKeyFiles(stateDir);
    });
  }

  it('ok/the persistent key really is fixedtpm|fixedparent|sensitivedataorigin', async () => {
    const { store } = tpmStore({ persistentHandle: '0x81010010' });
    await store.getOrCreateIdentityKey();
    const out = tpm2(['tpm2_readpublic', '-c', '0x81010010']);
    const attrs = /attributes:\s*\n\s+value:\s*(\S+)/.exec(out)![1]!.split('|');
    expect(attrs).toEqual(
      expect.arrayContaining(['fixedtpm', 'fixedparent', 'sensitivedataorigin', 'sign']),
    );
    expect(attrs).not.toContain('restricted');
    expect(attrs).not.toContain('decrypt');
  });

  it('ok/the blob key, loaded, has the same attributes', async () => {
    const { store, stateDir } = tpmStore({ keyLocation: 'blob' });
    await store.getOrCreateIdentityKey();
    const blob = JSON.parse(
      (await import('node:fs')).readFileSync(path.join(stateDir, 'tpm-identity-blob.json'), 'utf8'),
    ) as { public: string };
    const pubFile = path.join(stateDir, 'check.pub');
    writeFileSync(pubFile, Buffer.from(blob.public, 'base64'));
    // tpm2_print decodes the TPM2B_PUBLIC offline: the attributes are sealed into the blob.
    const out = execFileSync('tpm2_print', ['-t', 'TPM2B_PUBLIC', pubFile], { encoding: 'utf8' });
    expect(out).toMatch(/fixedtpm\|fixedparent\|sensitivedataorigin\|userwithauth\|sign/);
    rmSync(pubFile);
  });

  it('fail/a key without the identity attributes at the handle is refused, not replaced', async () => {
    // A restricted storage key persisted at the handle by someone else.
    const dir = tempDir();
    tpm2(['tpm2_createprimary', '-C', 'o', '-G', 'ecc', '-c', path.join(dir, 'p.ctx'), '-Q']);
    tpm2(['tpm2_evictcontrol', '-C', 'o', '-c', path.join(dir, 'p.ctx'), '0x81010020']);
    tpm2(['tpm2_flushcontext', '-t']);
    const { store } = tpmStore({ persistentHandle: '0x81010020' });
    await expect(store.getOrCreateIdentityKey()).rejects.toThrow(KeyStoreRefusedError);
    await expect(store.getOrCreateIdentityKey()).rejects.toThrow(/refusing to use or replace/);
    expect(tpm2(['tpm2_getcap', 'handles-persistent'])).toContain('0x81010020');
  });

  it('fail/a blob from another parent is refused', async () => {
    const { store, stateDir } = tpmStore({ keyLocation: 'blob', parent: 'owner' });
    await store.getOrCreateIdentityKey();
    const other = tpmStore({ keyLocation: 'blob', parent: 'endorsement' }, stateDir).store;
    await expect(other.getOrCreateIdentityKey()).rejects.toThrow(/made under parent owner/);
  });

  it('ok/an owner hierarchy with a password, read from ownerAuthFile; fail/a wrong one', async () => {
    const own = await startSwtpm();
    try {
      execFileSync('tpm2_changeauth', ['-c', 'o', 'line-secret'], {
        env: { ...process.env, TPM2TOOLS_TCTI: own.tcti },
      });
      const dir = tempDir();
      writeFileSync(path.join(dir, 'owner.auth'), 'line-secret\n', { mode: 0o600 });
      writeFileSync(path.join(dir, 'wrong.auth'), 'guess\n', { mode: 0o600 });
      const open = (authFile: string) =>
        openKeyStore(
          parseAgentConfig(
            {
              platformUrl: 'https://devices.example.test',
              rootCaFile: 'root.pem',
              stateDir: dir,
              keyStore: { type: 'tpm', tcti: own.tcti, ownerAuthFile: authFile },
            },
            path.join(dir, 'agent.json'),
          ),
          { env: {}, warn: () => {} },
        );
      const wrong = await open('wrong.auth')
        .getOrCreateIdentityKey()
        .catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(KeyStoreUnavailableError);
      expect((wrong as Error).message).toMatch(/refused the hierarchy password/);
      expect((await open('owner.auth').getOrCreateIdentityKey()).created).toBe(true);
    } finally {
      await own.stop();
    }
  });

  it('fail/an unreachable TPM is reported as unavailable', async () => {
    const dir = tempDir();
    const config = parseAgentConfig(
      {
        platformUrl: 'https://devices.example.test',
        rootCaFile: 'root.pem',
        stateDir: dir,
        keyStore: { type: 'tpm', tcti: 'swtpm:host=127.0.0.1,port=1' },
      },
      path.join(dir, 'agent.json'),
    );
    const store = openKeyStore(config, { env: {}, warn: () => {} });
    await expect(store.getOrCreateIdentityKey()).rejects.toThrow(KeyStoreUnavailableError);
  });
});
