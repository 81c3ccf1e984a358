import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

/** Creates a directory (and parents) with mode 0700 if it does not exist. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

function writeTemp(file: string, content: string | Buffer, mode: number): string {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `file` atomically: readers see the old content or the new one, never a torn file,
 * even across a power cut (temp file fsynced, renamed, directory fsynced).
 */
export function writeFileAtomic(file: string, content: string | Buffer, mode = 0o600): void {
  const tmp = writeTemp(file, content, mode);
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  syncDir(path.dirname(file));
}

/**
 * Creates `file` with its full content at once, and only if it does not exist: returns false
 * (and leaves the existing file alone) when it does. For key material that must never be
 * replaced.
 */
export function createFileExclusive(file: string, content: string | Buffer, mode = 0o600): boolean {
  const tmp = writeTemp(file, content, mode);
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  syncDir(path.dirname(file));
  return true;
}
