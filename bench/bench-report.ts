/**
 * Writes a benchmark's figures into docs/benchmarks.md, between the markers
 * `<!-- bench:<name> -->` and `<!-- /bench:<name> -->`, with the machine and the date, so the
 * prose around them (what is measured, where the time goes) stays as written and the figures
 * always come from one run. A section without markers yet is appended. BENCH_DOCS=0 leaves
 * the file alone (figures are printed either way).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';

export interface Section {
  title: string;
  header: string[];
  rows: string[][];
  notes: string[];
}

const DOC = path.resolve('docs/benchmarks.md');

/** One line naming the machine the figures came from, and when. */
export function machineLine(): string {
  const load = loadavg()[0]!.toFixed(1);
  return (
    `Machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version} ` +
    `with OpenSSL ${process.versions.openssl}; run on ${new Date().toISOString().slice(0, 10)}, ` +
    `load average ${load} when the figures were written.`
  );
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderSection(section: Section): string {
  return [
    machineLine(),
    '',
    table(section.header, section.rows),
    '',
    ...section.notes.map((n) => `- ${n}`),
  ].join('\n');
}

/** Writes the section, then formats the file as the repository's Prettier settings say. */
export async function writeSection(name: string, section: Section): Promise<void> {
  if (process.env.BENCH_DOCS === '0') return;
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const body = `${start}\n${renderSection(section)}\n${end}`;
  const doc = readFileSync(DOC, 'utf8');
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  const next =
    from >= 0 && to > from
      ? doc.slice(0, from) + body + doc.slice(to + end.length)
      : `${doc.trimEnd()}\n\n## ${section.title}\n\n${body}\n`;
  // Formatted as `npm test` checks it, so a benchmark run never leaves the docs failing lint.
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(DOC)) ?? {};
  writeFileSync(DOC, await prettier.format(next, { ...options, filepath: DOC }));
  process.stderr.write(`figures written to docs/benchmarks.md (${name})\n`);
}
