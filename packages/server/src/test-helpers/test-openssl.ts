import { spawnSync } from 'node:child_process';
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
