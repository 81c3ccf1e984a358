/** One progress line: bar, percentage, bytes and rate (pure, so tests can pin its look). */
export function renderProgress(sent: number, total: number, elapsedMs: number, width = 30): string {
  const fraction = total > 0 ? Math.min(1, sent / total) : 1;
  const filled = Math.round(fraction * width);
  const mib = (n: number) => (n / 1024 ** 2).toFixed(1);
  const rate = elapsedMs > 0 ? sent / 1024 ** 2 / (elapsedMs / 1000) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${mib(sent)}/${mib(total)} MiB ${rate.toFixed(1)} MiB/s`;
}

/**
 * Which quarter marks (25, 50, 75, 100) a non-terminal log should print after moving from
 * `before` to `after` bytes: a log file gets four lines, not thousands of redraws.
 */
export function crossedQuarters(before: number, after: number, total: number): number[] {
  if (total <= 0) return [];
  const q = (n: number) => Math.floor((Math.min(n, total) / total) * 4);
  const out: number[] = [];
  for (let k = q(before) + 1; k <= q(after); k++) out.push(k * 25);
  return out;
}
