/**
 * Runs every benchmark in bench/, one after another so they do not measure each other, and
 * lets each write its figures into docs/benchmarks.md (see bench-report.ts). A benchmark that
 * fails is reported and the others still run; the exit code says whether all of them ran.
 *
 *   npm run bench                 every benchmark, default sizes
 *   npm run bench -- issuance     only the named ones
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

// Cheap ones first, so a failure in a long one comes after the quick figures are written.
const ORDER = ['issuance', 'enrolment', 'database-direct', 'firmware', 'mqtt', 'dashboard'];

const available = readdirSync('bench', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join('bench', d.name, 'run.ts')))
  .map((d) => d.name)
  .sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99));

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  process.stderr.write(
    `unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}\n`,
  );
  process.exit(2);
}
const run = wanted.length ? available.filter((a) => wanted.includes(a)) : available;

const failed: string[] = [];
for (const [i, name] of run.entries()) {
  process.stderr.write(`\n== [${i + 1}/${run.length}] bench/${name}\n`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join('bench', name, 'run.ts')], {
    stdio: 'inherit',
    env: process.env,
  });
  const s = ((Date.now() - t0) / 1000).toFixed(0);
  if (r.status !== 0) {
    failed.push(name);
    process.stderr.write(`== bench/${name} failed (exit ${r.status ?? r.signal}) after ${s} s\n`);
  } else {
    process.stderr.write(`== bench/${name} done in ${s} s\n`);
  }
}
process.stderr.write(
  failed.length
    ? `\n${failed.length} of ${run.length} benchmarks failed: ${failed.join(', ')}\n`
    : `\nall ${run.length} benchmarks ran; docs/benchmarks.md holds their figures\n`,
);
process.exit(failed.length ? 1 : 0);
