/** One line per event on standard error: `<ISO time> <level> <message> key=value ...`. */
export interface RunLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function formatValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

/** A log that writes single lines to `write` (standard error in the daemon). */
export function createRunLog(
  write: (line: string) => void = (line) => process.stderr.write(line),
  clock: () => Date = () => new Date(),
): RunLog {
  const line = (level: string, message: string, fields: Record<string, unknown> = {}) => {
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => ` ${k}=${formatValue(v)}`)
      .join('');
    // Messages are ours, but details quoted from the platform could hold newlines: keep one line.
    write(
      `${clock().toISOString()} ${level} ${message.replace(/[\r\n]+/g, ' ')}${extra.replace(/[\r\n]+/g, ' ')}\n`,
    );
  };
  return {
    info: (m, f) => line('info', m, f),
    warn: (m, f) => line('warn', m, f),
    error: (m, f) => line('error', m, f),
  };
}
