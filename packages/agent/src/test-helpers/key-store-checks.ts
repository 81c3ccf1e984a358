import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';

/** Every regular file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Whether a file's bytes are a private key Node can use (PEM or DER, PKCS#8 or traditional). */
function isPrivateKey(content: Buffer): boolean {
  const attempts = [
    () => createPrivateKey(content),
    () => createPrivateKey({ key: content, format: 'der', type: 'pkcs8' }),
    () => createPrivateKey({ key: content, format: 'der', type: 'sec1' }),
    () => createPrivateKey({ key: content, format: 'der', type: 'pkcs1' }),
  ];
  return attempts.some((f) => {
    try {
      f();
      return true;
    } catch {
      return false;
    }
  });
}

/** Asserts that no file under `dir` is or contains a usable private key. */
export function expectNoPrivateKeyFiles(dir: string): void {
  for (const file of filesUnder(dir)) {
    const content = readFileSync(file);
    expect(content.toString('latin1'), file).not.toMatch(/PRIVATE KEY/);
    expect(isPrivateKey(content), file).toBe(false);
  }
}

/** Runs `openssl req -verify` on a PEM CSR; returns the subject openssl reads from it. */
export function opensslVerifyCsr(pem: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'trustlink-csr-'));
  try {
    const file = path.join(dir, 'req.pem');
    writeFileSync(file, pem);
    const r = spawnSync('openssl', ['req', '-in', file, '-verify', '-noout', '-subject'], {
      encoding: 'utf8',
    });
    // OpenSSL 3.0 exits 0 even when the self-signature fails: read what it says.
    if (r.status !== 0 || !/verify OK/.test(r.stderr) || /fail/i.test(r.stderr)) {
      throw new Error(`openssl req -verify: ${r.stderr.trim()}`);
    }
    return r.stdout.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
