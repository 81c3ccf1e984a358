import { execFileSync } from 'node:child_process';
import { constants, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseAgentConfig } from '../src/config/agent-config.js';
import { createCsr, toPem } from '../src/identity/csr-builder.js';
import { deviceIdOf } from '../src/identity/device-id.js';
import {
  KeyStoreRefusedError,
  KeyStoreUnavailableError,
  NoIdentityKeyError,
} from '../src/keystore/key-store-errors.js';
import type { IdentityKeyStore, KeyType } from '../src/keystore/key-store-types.js';
import { openKeyStore } from '../src/keystore/open-key-store.js';
import { pkcs11js, withTokenSession } from '../src/keystore/pkcs11/pkcs11-session.js';
import { expectNoPrivateKeyFiles, opensslVerifyCsr } from '../src/test-helpers/key-store-checks.js';
import { createSoftHsmToken, type SoftHsmToken } from '../src/test-helpers/softhsm.js';

let token: SoftHsmToken;
const dirs: string[] = [];

beforeAll(() => {
  token = createSoftHsmToken('agent-test', '4711');
  // SoftHSM2 reads SOFTHSM2_CONF when the module initialises; the agent passes its environment on.
  process.env.SOFTHSM2_CONF = token.env.SOFTHSM2_CONF;
});
afterAll(() => {
  token?.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'trustlink-agent-p11-'));
  dirs.push(d);
  return d;
}

function p11Store(
  keyStore: Record<string, unknown>,
  env: NodeJS.ProcessEnv = { TRUSTLINK_AGENT_PKCS11_PIN: token.pin },
): { store: IdentityKeyStore; stateDir: string } {
  const stateDir = tempDir();
  const config = parseAgentConfig(
    {
      platformUrl: 'https://devices.example.test:8444',
      rootCaFile: 'root.pem',
      stateDir,
      keyStore: { type: 'pkcs11', module: token.module, tokenLabel: token.tokenLabel, ...keyStore },
    },
    path.join(stateDir, 'agent.json'),
  );
  return { store: openKeyStore(config, { env, warn: () => {} }), stateDir };
}

function verifies(spki: Buffer, data: Buffer, sig: Buffer, hash: string, pss = false): boolean {
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return pss
    ? verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)
    : verify(hash, data, key, sig);
}

const cases: { name: string; keyType: KeyType; keyStore: Record<string, unknown> }[] = [
  { name: 'ok/P-256 (default)', keyType: 'P-256', keyStore: {} },
  {
    name: 'ok/P-384 with a key id',
    keyType: 'P-384',
    keyStore: { keyType: 'P-384', keyLabel: 'id-384', keyId: 'a1b2' },
  },
  {
    name: 'ok/RSA-2048',
    keyType: 'RSA-2048',
    keyStore: { keyType: 'RSA-2048', keyLabel: 'id-rsa' },
  },
];

describe('pkcs11 key store (SoftHSM2)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { store, stateDir } = p11Store(c.keyStore);
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

      const data = Buffer.from('trustlink-proof-v1 test message');
      if (c.keyType.startsWith('P-')) {
        const scheme = c.keyType === 'P-256' ? 'ecdsa-sha256' : 'ecdsa-sha384';
        const sig = await store.sign(data, scheme);
        expect(sig[0]).toBe(0x30);
        expect(verifies(first.spkiDer, data, sig, scheme.slice(-6))).toBe(true);
      } else {
        expect(
          verifies(first.spkiDer, data, await store.sign(data, 'rsa-pss-sha256'), 'sha256', true),
        ).toBe(true);
        expect(
          verifies(first.spkiDer, data, await store.sign(data, 'rsa-pkcs1-sha256'), 'sha256'),
        ).toBe(true);
      }

      const id = deviceIdOf(first.spkiDer);
      expect(opensslVerifyCsr(toPem(await createCsr(store, id)))).toContain(`CN = ${id}`);
      expectNoPrivateKeyFiles(stateDir);
      expectNoPrivateKeyFiles(path.join(token.dir, 'tokens'));
    });
  }

  it('ok/the private key in the token is sensitive and was never extractable', async () => {
    const { store } = p11Store({ keyLabel: 'attrs' });
    await store.getOrCreateIdentityKey();
    const values = await withTokenSession(
      { module: token.module, tokenLabel: token.tokenLabel, pin: token.pin },
      (s) => {
        s.p11.C_FindObjectsInit(s.session, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
          { type: pkcs11js.CKA_LABEL, value: 'attrs' },
        ]);
        const [key] = s.p11.C_FindObjects(s.session, 2);
        s.p11.C_FindObjectsFinal(s.session);
        return s.p11
          .C_GetAttributeValue(s.session, key!, [
            { type: pkcs11js.CKA_SENSITIVE },
            { type: pkcs11js.CKA_EXTRACTABLE },
            { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
            { type: pkcs11js.CKA_TOKEN },
          ])
          .map((a) => (a.value as Buffer)[0]);
      },
    );
    expect(values).toEqual([1, 0, 1, 1]);
  });

  it('ok/the PIN from a file', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'pin'), `${token.pin}\n`, { mode: 0o600 });
    const { store } = p11Store({ keyLabel: 'pinfile', pinFile: path.join(dir, 'pin') }, {});
    expect((await store.getOrCreateIdentityKey()).created).toBe(true);
  });

  it('fail/an imported (once extractable) key under the label is refused, not replaced', async () => {
    const dir = tempDir();
    const pem = path.join(dir, 'k.pem');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(pem, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    execFileSync(
      'softhsm2-util',
      [
        '--import',
        pem,
        '--token',
        token.tokenLabel,
        '--label',
        'imported',
        '--id',
        '0f',
        '--pin',
        token.pin,
      ],
      { env: { ...process.env, ...token.env }, stdio: 'pipe' },
    );
    const { store } = p11Store({ keyLabel: 'imported' });
    await expect(store.getOrCreateIdentityKey()).rejects.toThrow(KeyStoreRefusedError);
    await expect(store.publicKey()).rejects.toThrow(/never leave it/);
  });

  const unavailable: [string, Record<string, unknown>, NodeJS.ProcessEnv, RegExp][] = [
    ['fail/wrong PIN', {}, { TRUSTLINK_AGENT_PKCS11_PIN: '0000' }, /refused the user PIN/],
    ['fail/no such token', { tokenLabel: 'nope' }, {}, /no token labelled "nope"/],
    [
      'fail/module that does not load',
      { module: '/nonexistent/libpkcs11.so' },
      { TRUSTLINK_AGENT_PKCS11_PIN: '1' },
      /cannot load PKCS#11 module/,
    ],
  ];
  for (const [name, ks, env, message] of unavailable) {
    it(name, async () => {
      const { store } = p11Store(ks, { TRUSTLINK_AGENT_PKCS11_PIN: token.pin, ...env });
      const err = await store.getOrCreateIdentityKey().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyStoreUnavailableError);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('fail/no PIN configured names the option', async () => {
    const { store } = p11Store({}, {});
    await expect(store.publicKey()).rejects.toThrow(ConfigError);
    await expect(store.publicKey()).rejects.toThrow(
      /keyStore.pinEnv: TRUSTLINK_AGENT_PKCS11_PIN is not set/,
    );
  });
});
