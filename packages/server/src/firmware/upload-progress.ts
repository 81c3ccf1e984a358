import { crossedQuarters, renderProgress } from './upload-progress-fns.js';

/** Below this an upload is quick enough that progress would only be noise. */
export const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

/**
 * Upload progress on standard error, never standard output (scripts capture the id there). On
 * a terminal a bar redrawn in place at most every 100 ms; otherwise (CI logs) a line at each
 * quarter. Small files get none.
 */
export function uploadProgress(
  total: number,
  out: Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean } = process.stderr,
  now: () => number = Date.now,
) {
  const start = now();
  let sent = 0;
  let drawnAt = 0;
  const enabled = total >= PROGRESS_MIN_BYTES;
  return {
    add(n: number): void {
      if (!enabled) return;
      const before = sent;
      sent += n;
      if (out.isTTY) {
        const t = now();
        if (t - drawnAt < 100 && sent < total) return;
        drawnAt = t;
        out.write(`\r${renderProgress(sent, total, t - start)}`);
      } else {
        const mib = (n: number) => (n / 1024 ** 2).toFixed(1);
        for (const q of crossedQuarters(before, sent, total))
          out.write(`uploaded ${q}% (${mib(sent)}/${mib(total)} MiB)\n`);
      }
    },
    done(): void {
      if (enabled && out.isTTY) out.write('\n');
    },
  };
}
