import { createHash, randomUUID } from 'node:crypto';
import { close, createReadStream, open as openFd, read, readSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { NotFoundError, PayloadTooLargeError } from '../lib/errors.js';
import type { FirmwareBlobStore, StoredBlob } from './blob-store.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TEMP_PREFIX = '.upload-';

/**
 * Blobs as files: `<root>/<instance id>/<sha256>`. A blob is written to a temporary file in the
 * same directory while it is hashed, flushed to disk, then renamed to its digest, so a reader
 * never sees a partial file and a crash leaves only a temporary file (removed by
 * `removeStaleUploads`). Renaming onto an existing blob replaces identical bytes.
 */
/** Read size for streams from `get` (see there). */
const READ_CHUNK = 256 * 1024;
/** Read size of `send`: its buffers are reused, so a large one costs no garbage. */
const SEND_CHUNK = 256 * 1024;
/** Send buffers kept for reuse (the pool's ceiling: 64 × 256 KiB = 16 MiB). */
const SEND_POOL_MAX = 64;
const openAsync = promisify(openFd);

/** Reused read buffers: a download takes one per chunk and gives it back when it is written. */
function createBufferPool(size: number, max: number) {
  const free: Buffer[] = [];
  return {
    take: (): Buffer => free.pop() ?? Buffer.allocUnsafeSlow(size),
    give(b: Buffer): void {
      if (free.length < max) free.push(b);
    },
  };
}

export function createFileBlobStore(
  root: string,
  opts: {
    /** false: downloads always read through libuv's thread pool (see asyncUntil). */
    syncReads?: boolean;
  } = {},
): FirmwareBlobStore & {
  /** Removes temporary files of uploads that never finished (a crash, a killed process). */
  removeStaleUploads(olderThanMs: number): Promise<number>;
} {
  function dirOf(instanceId: string): string {
    // Both parts become path segments: only plain identifiers may reach the file system.
    if (!INSTANCE_ID.test(instanceId)) throw new Error(`bad instance id for a blob path`);
    return path.join(root, instanceId);
  }
  function fileOf(instanceId: string, sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new NotFoundError(`no blob ${sha256}`);
    return path.join(dirOf(instanceId), sha256);
  }

  async function put(
    instanceId: string,
    source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
    opts: { maxBytes?: number } = {},
  ): Promise<StoredBlob> {
    const dir = dirOf(instanceId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = path.join(dir, `${TEMP_PREFIX}${randomUUID()}`);
    const max = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
    const hash = createHash('sha256');
    let size = 0;
    const fh = await open(temp, 'wx', 0o600);
    try {
      for await (const piece of source) {
        const buf = typeof piece === 'string' ? Buffer.from(piece) : piece;
        size += buf.length;
        if (size > max) {
          throw new PayloadTooLargeError(`the image is larger than the limit of ${max} bytes`);
        }
        hash.update(buf);
        for (let off = 0; off < buf.length;) {
          off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
        }
      }
      await fh.sync();
      await fh.close();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw err;
    }
    const sha256 = hash.digest('hex');
    try {
      await rename(temp, path.join(dir, sha256));
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return { sha256, size };
  }

  const pool = createBufferPool(SEND_CHUNK, SEND_POOL_MAX);

  /**
   * One descriptor per blob for all the downloads of it in flight (reads are positional, so
   * they share it), closed when the last one ends: many devices fetching one image open it
   * once, not twice each. A blob never changes under its name; one deleted meanwhile stays
   * readable until then, as an open file does, and only for downloads already authorised.
   */
  const shared = new Map<string, { fd: Promise<number>; users: number }>();
  function openShared(file: string): Promise<number> {
    let s = shared.get(file);
    if (!s) {
      const fd = openAsync(file, 'r');
      s = { fd, users: 0 };
      shared.set(file, s);
      const entry = s;
      fd.catch(() => {
        if (shared.get(file) === entry) shared.delete(file);
      });
    }
    s.users++;
    return s.fd;
  }
  function releaseShared(file: string): void {
    const s = shared.get(file);
    if (!s || --s.users > 0) return;
    shared.delete(file);
    s.fd.then((fd) => close(fd, () => undefined)).catch(() => undefined);
  }

  /**
   * Reads are synchronous while the blobs come from the page cache (a firmware image many
   * devices fetch stays there): a 256 KiB copy takes tens of microseconds, less than handing
   * it to libuv's thread pool and back, which cost about 15 % more CPU per GB in bench/firmware.
   * A read that takes longer (the disk) switches the store to asynchronous reads for a while,
   * so a cold image stalls the event loop for one read at most now and then.
   */
  let asyncUntil = opts.syncReads === false ? Infinity : 0;
  const SLOW_READ_MS = 2;
  const ASYNC_FOR_MS = 10_000;

  /**
   * Bytes [start, end) of an open file to `out`: read a chunk into a pooled buffer, write it,
   * and give the buffer back when the write has completed (the TLS layer has encrypted and
   * flushed it); read the next one at once while `out` accepts more, else on its 'drain'. One
   * read and one write per chunk, no stream objects, no garbage per chunk.
   */
  function pump(fd: number, start: number, end: number, out: Writable): Promise<void> {
    return new Promise((resolve, reject) => {
      let pos = start;
      let done = false;
      let reading = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        out.removeListener('drain', step);
        out.removeListener('close', gone);
        if (err) reject(err);
        else resolve();
      };
      const gone = () => finish();
      const written = (buf: Buffer) => () => pool.give(buf);
      /** Writes what was read; true when `out` takes more at once. */
      const deliver = (buf: Buffer, n: number): boolean => {
        if (done) {
          pool.give(buf);
          return false;
        }
        // A blob is immutable and named by its digest: a short read means it was removed or
        // truncated underneath us, and the declared length can no longer be met.
        if (n === 0) {
          pool.give(buf);
          finish(new Error(`blob ended at ${pos} before ${end}`));
          return false;
        }
        pos += n;
        return out.write(n === buf.length ? buf : buf.subarray(0, n), written(buf));
      };
      function step() {
        while (!done && !reading) {
          // Closed already (the client went away while the request was decided): no 'close'.
          if (pos >= end || out.destroyed) return finish();
          const buf = pool.take();
          const want = Math.min(buf.length, end - pos);
          if (Date.now() >= asyncUntil) {
            const t0 = performance.now();
            let n: number;
            try {
              n = readSync(fd, buf, 0, want, pos);
            } catch (err) {
              pool.give(buf);
              return finish(err as Error);
            }
            if (performance.now() - t0 > SLOW_READ_MS) asyncUntil = Date.now() + ASYNC_FOR_MS;
            if (!deliver(buf, n)) return;
            continue;
          }
          reading = true;
          read(fd, buf, 0, want, pos, (err, n) => {
            reading = false;
            if (err) {
              pool.give(buf);
              return finish(err);
            }
            if (deliver(buf, n)) step();
          });
          return;
        }
      }
      out.on('drain', step);
      out.once('close', gone);
      step();
    });
  }

  async function statOf(instanceId: string, sha256: string) {
    if (!SHA256_HEX.test(sha256)) return undefined;
    try {
      const s = await stat(fileOf(instanceId, sha256));
      return s.isFile() ? { size: s.size } : undefined;
    } catch {
      return undefined;
    }
  }

  return {
    put,
    stat: statOf,
    async get(instanceId, sha256, range) {
      const s = await statOf(instanceId, sha256);
      if (!s) throw new NotFoundError(`no blob ${sha256}`);
      const file = fileOf(instanceId, sha256);
      // 256 KiB reads: each chunk costs a JavaScript turn and a TLS write, so the default 64 KiB
      // spends more per GB on bookkeeping; 1 MiB chunks were worse with many concurrent
      // downloads (every connection holds its chunks in memory: more garbage collection).
      // See bench/firmware and docs/benchmarks.md.
      return createReadStream(file, { ...range, highWaterMark: READ_CHUNK }) as Readable;
    },
    async send(instanceId, sha256, range, out) {
      const file = fileOf(instanceId, sha256);
      const fd = await openShared(file).catch((err: unknown) => {
        throw (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new NotFoundError(`no blob ${sha256}`)
          : err;
      });
      try {
        await pump(fd, range.start, range.end + 1, out);
      } finally {
        releaseShared(file);
      }
    },
    async delete(instanceId, sha256) {
      if (!SHA256_HEX.test(sha256)) return;
      await rm(fileOf(instanceId, sha256), { force: true });
    },
    async removeStaleUploads(olderThanMs) {
      let removed = 0;
      let instances: string[];
      try {
        instances = await readdir(root);
      } catch {
        return 0;
      }
      const limit = Date.now() - olderThanMs;
      for (const instance of instances.filter((d) => INSTANCE_ID.test(d))) {
        const dir = path.join(root, instance);
        const names = await readdir(dir).catch(() => [] as string[]);
        for (const name of names.filter((n) => n.startsWith(TEMP_PREFIX))) {
          const s = await stat(path.join(dir, name)).catch(() => undefined);
          if (s && s.mtimeMs < limit) {
            await rm(path.join(dir, name), { force: true });
            removed++;
          }
        }
      }
      return removed;
    },
  };
}
