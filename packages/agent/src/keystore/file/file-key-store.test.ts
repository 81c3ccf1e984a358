import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants, createPublicKey, verify } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCsr, toPem } from '../../identity/csr-builder.js';
import { deviceIdOf } from '../../identity/device-id.js';
import { opensslVerifyCsr } from '../../test-helpers/key-store-checks.js';
import { KeyStoreRefusedError, NoIdentityKeyError } from '../key-store-errors.js';
import type { KeyType } from '../key-store-types.js';
import { createFileKeyStore, FILE_KEY_STORE_WARNING } from './file-key-store.js';

const dir = mkdtempSync(path.join(tmpdir(), 'trustlink-agent-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function store(name: string, keyType: KeyType = 'P-256') {
  const warnings: string[] = [];
  const s = createFileKeyStore(
    { path: path.join(dir, name, 'key.pem'), keyType },
    { warn: (m) => warnings.push(m) },
  );
  return { s, warnings, file: path.join(dir, name, 'key.pem') };
}

describe('file key store', () => {
  const types: KeyType[] = ['P-256', 'P-384', 'RSA-2048'];
  for (const keyType of types) {
    it(`ok/${keyType}: create once, 0600, sign, CSR`, async () => {
      const { s, warnings, file } = store(keyType, keyType);
      expect(warnings).toEqual([FILE_KEY_STORE_WARNING]);
      expect(await s.publicKey()).toBeNull();
      const first = await s.getOrCreateIdentityKey();
      expect(first).toMatchObject({ created: true, keyType });
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      const again = await s.getOrCreateIdentityKey();
      expect(again.created).toBe(false);
      expect(again.spkiDer.equals(first.spkiDer)).toBe(true);

      const data = Buffer.from('hello');
      const key = createPublicKey({ key: first.spkiDer, format: 'der', type: 'spki' });
      if (keyType === 'RSA-2048') {
        const sig = await s.sign(data, 'rsa-pss-sha256');
        expect(
          verify(
            'sha256',
            data,
            { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
            sig,
          ),
        ).toBe(true);
      } else {
        const scheme = keyType === 'P-256' ? 'ecdsa-sha256' : 'ecdsa-sha384';
        expect(verify(scheme.slice(-6), data, key, await s.sign(data, scheme))).toBe(true);
      }
      const id = deviceIdOf(first.spkiDer);
      expect(opensslVerifyCsr(toPem(await createCsr(s, id)))).toContain(`CN = ${id}`);
    });
  }

  it('fail/a tampered CSR does not pass openssl req -verify (the check is real)', async () => {
    const { s } = store('tamper');
    await s.getOrCreateIdentityKey();
    const csr = await createCsr(s, 'device');
    csr[csr.length - 5]! ^= 0x01;
    expect(() => opensslVerifyCsr(toPem(csr))).toThrow();
  });

  it('fail/a key file with mode 0644 is refused, and left alone', async () => {
    const { s, file } = store('loose');
    await s.getOrCreateIdentityKey();
    chmodSync(file, 0o644);
    const before = readFileSync(file);
    await expect(s.getOrCreateIdentityKey()).rejects.toThrow(KeyStoreRefusedError);
    await expect(s.publicKey()).rejects.toThrow(/mode 0644: refusing/);
    await expect(s.sign(Buffer.from('x'), 'ecdsa-sha256')).rejects.toThrow(KeyStoreRefusedError);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('fail/a file that is not a key is refused, not replaced', async () => {
    const { s, file } = store('garbage');
    await s.getOrCreateIdentityKey();
    writeFileSync(file, 'not a key', { mode: 0o600 });
    await expect(s.getOrCreateIdentityKey()).rejects.toThrow(/no usable private key/);
    expect(readFileSync(file, 'utf8')).toBe('not a key');
  });

  it('fail/signing without a key, or with a scheme that does not fit', async () => {
    const { s } = store('nokey');
    await expect(s.sign(Buffer.from('x'), 'ecdsa-sha256')).rejects.toThrow(NoIdentityKeyError);
    await s.getOrCreateIdentityKey();
    await expect(s.sign(Buffer.from('x'), 'rsa-pss-sha256')).rejects.toThrow(
      /does not fit a P-256/,
    );
  });
});
