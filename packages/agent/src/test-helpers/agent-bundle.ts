import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const AGENT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Builds the single-file bundle (`npm run bundle -w packages/agent`) and copies it, with the
 * PKCS#11 addon it needs beside it, into an empty directory outside the repository, so nothing
 * can be found through the repository's node_modules: what runs is what a device gets.
 */
export function installBundle(): { dir: string; bin: string } {
  const r = spawnSync(process.execPath, [path.join(AGENT, 'scripts', 'bundle.mjs')], {
    cwd: AGENT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`bundle: ${r.stderr}${r.stdout}`);
  const dist = path.join(AGENT, 'dist');
  const dir = mkdtempSync(path.join(tmpdir(), 'trustlink-agent-bundle-'));
  for (const f of ['trustlink-agent.mjs', 'pkcs11.node']) {
    if (!existsSync(path.join(dist, f))) throw new Error(`bundle: ${f} was not written`);
    copyFileSync(path.join(dist, f), path.join(dir, f));
  }
  return { dir, bin: path.join(dir, 'trustlink-agent.mjs') };
}
