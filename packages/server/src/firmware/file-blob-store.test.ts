import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { NotFoundError, PayloadTooLargeError } from '../lib/errors.js';
import { createFileBlobStore } from './file-blob-store.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'trustlink-blobs-'));
const store = createFileBlobStore(root);
const I1 = '11111111-1111-4111-8111-111111111111';
const I2 = '22222222-2222-4222-8222-222222222222';
const I3 = '33333333-3333-4333-8333-333333333333';
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function* pieces(data: Buffer, size: number) {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
async function read(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const p of s) out.push(p);
  return Buffer.concat(out);
}

/**
 * A slow reader, as a socket is: it may look at a chunk any time until it completes the write,
 * so it copies each one only then, a turn later, with a small high-water mark. A sender reusing
 * a buffer before its write completed would have it overwritten by another send meanwhile.
 */
function slowSink(opts: { stopAfter?: number } = {}) {
  const parts: Buffer[] = [];
  let n = 0;
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      setImmediate(() => {
        parts.push(Buffer.from(chunk));
        n += chunk.length;
        if (opts.stopAfter !== undefined && n >= opts.stopAfter) sink.destroy();
        else cb();
      });
    },
  });
  return { sink, body: () => Buffer.concat(parts) };
}

describe('file blob store', () => {
  const data = randomBytes(300_000);
  const sha = createHash('sha256').update(data).digest('hex');

  it('ok/a stream is stored under its SHA-256, once', async () => {
    expect(await store.put(I1, pieces(data, 7000))).toEqual({ sha256: sha, size: data.length });
    expect(await store.put(I1, pieces(data, 65536))).toEqual({ sha256: sha, size: data.length });
    expect(readdirSync(path.join(root, I1))).toEqual([sha]);
    expect(await store.stat(I1, sha)).toEqual({ size: data.length });
    expect(await read(await store.get(I1, sha))).toEqual(data);
  });

  it('ok/a range is read inclusively', async () => {
    expect(await read(await store.get(I1, sha, { start: 10, end: 19 }))).toEqual(
      data.subarray(10, 20),
    );
  });

  it.each([
    ['page-cache (synchronous)', store],
    ['thread-pool', createFileBlobStore(root, { syncReads: false })],
  ])(
    'ok/send with %s reads writes inclusive ranges, many at once through slow readers, every byte right',
    async (_, store) => {
      const big = randomBytes(3 * 1024 * 1024 + 12345);
      const { sha256 } = await store.put(I3, [big]);
      const ranges = [
        { start: 0, end: big.length - 1 },
        { start: 0, end: 0 },
        { start: 1, end: 1_500_000 },
        { start: 1_500_001, end: big.length - 1 },
        { start: 262_143, end: 262_144 },
        { start: big.length - 1, end: big.length - 1 },
      ];
      // Twice as many sends at once as the pool keeps buffers: buffers are reused across them.
      const jobs = Array.from(
        { length: 4 * ranges.length * 6 },
        (_, i) => ranges[i % ranges.length]!,
      );
      const sinks = jobs.map(() => slowSink());
      // Descriptors of this process open on the blob (other files of the worker do not count).
      const blobFile = path.join(root, I3, sha256);
      const openOnBlob = () =>
        readdirSync('/proc/self/fd').filter((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`) === blobFile;
          } catch {
            return false;
          }
        }).length;
      await Promise.all(
        jobs.map(async (r, i) => {
          // send resolves when the last chunk is handed over; the reader finishes it later.
          await store.send!(I3, sha256, r, sinks[i]!.sink);
          await finished(sinks[i]!.sink.end());
        }),
      );
      // The sends shared one descriptor of the blob, closed after the last of them (the close
      // itself goes through the thread pool: give it a moment on a busy machine).
      for (let i = 0; i < 200 && openOnBlob() > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(openOnBlob()).toBe(0);
      jobs.forEach((r, i) =>
        expect(sinks[i]!.body().equals(big.subarray(r.start, r.end + 1))).toBe(true),
      );
    },
  );

  it('ok/send stops quietly when the reader goes away; absent blobs are not found', async () => {
    const big = randomBytes(2 * 1024 * 1024);
    const { sha256 } = await store.put(I3, [big]);
    const { sink, body } = slowSink({ stopAfter: 300_000 });
    await store.send!(I3, sha256, { start: 0, end: big.length - 1 }, sink);
    expect(body().length).toBeLessThan(big.length);
    expect(big.subarray(0, body().length).equals(body())).toBe(true);
    const other = createHash('sha256').update('absent').digest('hex');
    await expect(
      store.send!(I3, other, { start: 0, end: 0 }, slowSink().sink),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('ok/instances do not share blobs', async () => {
    expect(await store.stat(I2, sha)).toBeUndefined();
    await expect(store.get(I2, sha)).rejects.toThrow(/no blob/);
  });

  it('fail/over the limit nothing is left, not even a temporary file', async () => {
    const big = randomBytes(10_000);
    await expect(store.put(I2, pieces(big, 1000), { maxBytes: 9_999 })).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    expect(readdirSync(path.join(root, I2))).toEqual([]);
  });

  it('fail/a source that breaks off leaves nothing', async () => {
    async function* broken() {
      yield Buffer.alloc(100);
      throw new Error('aborted');
    }
    await expect(store.put(I2, broken())).rejects.toThrow('aborted');
    expect(readdirSync(path.join(root, I2))).toEqual([]);
  });

  it('fail/names that are not digests never reach the file system', async () => {
    expect(await store.stat(I1, '../x')).toBeUndefined();
    await expect(store.get(I1, `../${sha}`)).rejects.toThrow(/no blob/);
    await expect(store.put('../etc', [Buffer.from('x')])).rejects.toThrow(/instance id/);
  });

  it('ok/delete removes a blob; deleting again is harmless', async () => {
    await store.delete(I1, sha);
    await store.delete(I1, sha);
    expect(await store.stat(I1, sha)).toBeUndefined();
  });

  it('ok/stale temporary files of crashed uploads are removed, fresh ones kept', async () => {
    const old = path.join(root, I1, '.upload-old');
    const fresh = path.join(root, I1, '.upload-fresh');
    writeFileSync(old, 'x');
    writeFileSync(fresh, 'y');
    const past = new Date(Date.now() - 2 * 3600_000);
    utimesSync(old, past, past);
    expect(await store.removeStaleUploads(3600_000)).toBe(1);
    expect(readdirSync(path.join(root, I1)).sort()).toEqual(['.upload-fresh']);
  });
});
