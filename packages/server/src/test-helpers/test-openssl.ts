import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toPem } from '../pki/certificate-builder.js';

/** Result of one openssl run: exit status and stdout+stderr together. */
export interface OpensslResult {
  status: number;
  out: string;
}

/** A scratch directory where tests write PEM/DER files for the openssl command line. */
export function scratch() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-openssl-'));
  return {
    dir,
    /** Writes a file (DER certificates given as Buffers become PEM unless `raw`). */
    file(name: string, content: string | Buffer, raw = false): string {
      const p = path.join(dir, name);
      writeFileSync(p, Buffer.isBuffer(content) && !raw ? toPem(content) : content);
      return p;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs openssl with arguments; never throws on a non-zero exit. */
export function openssl(args: string[], input?: Buffer | string): OpensslResult {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/**
 * Runs openssl without blocking the event loop: needed when it talks to a server running in
 * this same process (openssl ocsp -url).
 */
export function opensslAsync(args: string[], timeoutMs = 20_000): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, out });
    });
  });
}
