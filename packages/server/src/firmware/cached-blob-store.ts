import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { FirmwareBlobStore } from './blob-store.js';

/** Bytes per write of a download served from memory (see `sendFromMemory`). */
const WRITE_CHUNK = 256 * 1024;
/** A held image nobody downloaded for this long is let go. */
const IDLE_MS = 10 * 60_000;
const SWEEP_MS = 60_000;
/** Blobs remembered as too large to hold (so a miss does not `stat` them every time). */
const TOO_LARGE_MAX = 10_000;

interface Held {
  bytes: Buffer;
  lastUsed: number;
}

/**
 * Holds the images being downloaded in memory, up to `maxBytes` in all, in front of another
 * blob store, so a rollout's many downloads of one image cost no file or database read each:
 * the response's TLS layer encrypts straight from the held bytes (bench/firmware: the reads
 * were about a tenth of the server's CPU per GB, as copies from the page cache through the
 * thread pool). What stays true:
 *
 * - A held image is exactly the blob: blobs never change under their digest, and the bytes are
 *   hashed when loaded and held only if they match it. So nothing held goes stale, on any
 *   replica; the device routes still decide on every request whether a device may have it.
 * - The first download of an image is served by the store underneath while the image loads
 *   once in the background (concurrent first downloads share that load); later ones, from
 *   memory. Deleting a blob lets it go here first.
 * - Memory is bounded: least recently used images are let go to make room, an image larger
 *   than the budget is never held, and one idle for ten minutes is let go. Downloads under way
 *   keep their reference until they end, so for a moment more than `maxBytes` may be alive.
 *
 * `maxBytes` 0 passes everything through.
 */
export function createCachedBlobStore<S extends FirmwareBlobStore>(
  inner: S,
  opts: { maxBytes: number; now?: () => number },
): S & { held(): { blobs: number; bytes: number; loading: number } } {
  const now = opts.now ?? Date.now;
  /** Insertion order is recency order: a use moves an entry to the end. */
  const held = new Map<string, Held>();
  const loading = new Map<string, Promise<void>>();
  const tooLarge = new Set<string>();
  let heldBytes = 0;
  /** Bytes of loads in flight, counted against the budget before they arrive. */
  let reserved = 0;
  let sweeper: NodeJS.Timeout | undefined;
  const keyOf = (instanceId: string, sha256: string) => `${instanceId}/${sha256}`;

  function drop(key: string): void {
    const h = held.get(key);
    if (!h) return;
    held.delete(key);
    heldBytes -= h.bytes.length;
    if (held.size === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }

  function sweep(): void {
    const limit = now() - IDLE_MS;
    for (const [key, h] of held) if (h.lastUsed < limit) drop(key);
  }

  /** Makes room for `size` more bytes by letting the least recently used go; false if none. */
  function makeRoom(size: number): boolean {
    for (const key of held.keys()) {
      if (heldBytes + reserved + size <= opts.maxBytes) break;
      drop(key);
    }
    return heldBytes + reserved + size <= opts.maxBytes;
  }

  /** Reads a whole blob from the store underneath and holds it if it is what its name says. */
  async function load(instanceId: string, sha256: string, key: string): Promise<void> {
    const s = await inner.stat(instanceId, sha256);
    if (!s) return;
    if (s.size > opts.maxBytes) {
      if (tooLarge.size >= TOO_LARGE_MAX) tooLarge.clear();
      tooLarge.add(key);
      return;
    }
    if (!makeRoom(s.size)) return;
    reserved += s.size;
    let bytes: Buffer | undefined;
    try {
      bytes = await readWhole(inner, instanceId, sha256, s.size);
    } finally {
      reserved -= s.size;
    }
    if (!bytes || !makeRoom(s.size)) return;
    held.set(key, { bytes, lastUsed: now() });
    heldBytes += bytes.length;
    sweeper ??= setInterval(sweep, SWEEP_MS).unref();
  }

  function startLoad(instanceId: string, sha256: string, key: string): void {
    if (loading.has(key) || tooLarge.has(key)) return;
    sweep();
    const p = load(instanceId, sha256, key)
      // A failed load only means the next download is served by the store underneath again.
      .catch(() => undefined)
      .finally(() => loading.delete(key));
    loading.set(key, p);
  }

  async function send(
    instanceId: string,
    sha256: string,
    range: { start: number; end: number },
    out: Writable,
  ): Promise<void> {
    const key = keyOf(instanceId, sha256);
    const h = opts.maxBytes > 0 ? held.get(key) : undefined;
    if (h) {
      // The range was decided against the size recorded for the update; the held blob is the
      // truth. A mismatch must cut the response short (the caller's error path), not pad it.
      if (range.end >= h.bytes.length) {
        throw new Error(`range ends at ${range.end}, the blob at ${h.bytes.length - 1}`);
      }
      h.lastUsed = now();
      held.delete(key);
      held.set(key, h);
      return sendFromMemory(h.bytes, range.start, range.end + 1, out);
    }
    if (opts.maxBytes > 0) startLoad(instanceId, sha256, key);
    if (inner.send) return inner.send(instanceId, sha256, range, out);
    const stream = await inner.get(instanceId, sha256, range);
    return sendStream(stream, out);
  }

  return {
    ...inner,
    send,
    async delete(instanceId: string, sha256: string) {
      const key = keyOf(instanceId, sha256);
      drop(key);
      tooLarge.delete(key);
      await inner.delete(instanceId, sha256);
      // A load that started before the delete may finish after it: let that go too.
      await loading.get(key);
      drop(key);
    },
    /** What is held, and how many loads are under way (for metrics and tests). */
    held: () => ({ blobs: held.size, bytes: heldBytes, loading: loading.size }),
  };
}

/** The blob's bytes, or undefined unless they are exactly `size` bytes hashing to `sha256`. */
async function readWhole(
  store: FirmwareBlobStore,
  instanceId: string,
  sha256: string,
  size: number,
): Promise<Buffer | undefined> {
  const bytes = Buffer.allocUnsafeSlow(size);
  const hash = createHash('sha256');
  let at = 0;
  for await (const piece of await store.get(instanceId, sha256)) {
    const b = piece as Buffer;
    if (at + b.length > size) return undefined;
    b.copy(bytes, at);
    hash.update(b);
    at += b.length;
  }
  return at === size && hash.digest('hex') === sha256 ? bytes : undefined;
}

/**
 * Bytes [start, end) of a held image to `out`, in 256 KiB writes of views into it (no copy:
 * the TLS layer encrypts from them), as fast as `out` takes them; resolves when all are handed
 * over, or quietly when `out` closes first. Larger writes cost more here (bench/firmware: 1 MiB
 * writes about a third more CPU per GB with 50 downloads, as each connection then holds a
 * megabyte of records in Node's TLS buffers), smaller ones more JavaScript per byte.
 */
function sendFromMemory(bytes: Buffer, start: number, end: number, out: Writable): Promise<void> {
  return new Promise((resolve) => {
    let pos = start;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      out.removeListener('drain', step);
      out.removeListener('close', finish);
      resolve();
    };
    function step() {
      while (!done) {
        // Closed already (the client went away while the request was decided): no 'close' comes.
        if (pos >= end || out.destroyed) return finish();
        const n = Math.min(WRITE_CHUNK, end - pos);
        const more = out.write(bytes.subarray(pos, pos + n));
        pos += n;
        if (!more) return;
      }
    }
    out.on('drain', step);
    out.once('close', finish);
    step();
  });
}

/** A store without `send`: its stream piped to `out`, with the same ending as `send`. */
function sendStream(stream: NodeJS.ReadableStream & { destroy(): void }, out: Writable) {
  return new Promise<void>((resolve, reject) => {
    if (out.destroyed) {
      stream.destroy();
      return resolve();
    }
    const gone = () => {
      stream.destroy();
      resolve();
    };
    out.once('close', gone);
    stream.once('error', (err) => {
      out.removeListener('close', gone);
      reject(err);
    });
    stream.once('end', () => {
      out.removeListener('close', gone);
      resolve();
    });
    stream.pipe(out, { end: false });
  });
}
