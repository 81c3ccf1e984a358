import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { FirmwareBlobStore } from './blob-store.js';
import { createCachedBlobStore } from './cached-blob-store.js';
import { createFileBlobStore } from './file-blob-store.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'trustlink-cached-blobs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const I1 = '11111111-1111-4111-8111-111111111111';
const MiB = 1024 * 1024;

/**
 * A slow reader, as a socket is: it copies each chunk only a turn later, with a small
 * high-water mark, so sends wait for 'drain'; `stopAfter` goes away mid-body.
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

/** The file store underneath, counting whole-blob reads (the cache's loads) and sends. */
function counted(inner: FirmwareBlobStore) {
  const calls = { loads: 0, sends: 0 };
  const store: FirmwareBlobStore = {
    ...inner,
    async get(instanceId, sha256, range) {
      if (!range) calls.loads++;
      return inner.get(instanceId, sha256, range);
    },
    send: inner.send
      ? (instanceId, sha256, range, out) => {
          calls.sends++;
          return inner.send!(instanceId, sha256, range, out);
        }
      : undefined,
  };
  return { store, calls };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

async function download(
  store: FirmwareBlobStore,
  sha256: string,
  range: { start: number; end: number },
) {
  const { sink, body } = slowSink();
  await store.send!(I1, sha256, range, sink);
  await finished(sink.end());
  return body();
}

const files = createFileBlobStore(path.join(root, 'files'));

describe('cached blob store', () => {
  it('ok/the first downloads read the store while the image loads once; later ones come from memory, every range byte-exact', async () => {
    const { store: inner, calls } = counted(files);
    const cache = createCachedBlobStore(inner, { maxBytes: 16 * MiB });
    const image = randomBytes(3 * MiB + 4321);
    const { sha256 } = await cache.put(I1, [image]);
    const ranges = [
      { start: 0, end: image.length - 1 },
      { start: 0, end: 0 },
      { start: 1, end: 1_500_000 },
      { start: 1_500_001, end: image.length - 1 },
      { start: 262_143, end: 262_144 },
      { start: image.length - 1, end: image.length - 1 },
    ];
    // Concurrent first downloads: all served by the store underneath, one load between them.
    const first = await Promise.all(ranges.map((r) => download(cache, sha256, r)));
    ranges.forEach((r, i) =>
      expect(first[i]!.equals(image.subarray(r.start, r.end + 1))).toBe(true),
    );
    expect(calls.sends).toBe(ranges.length);
    await until(() => cache.held().blobs === 1);
    expect(calls.loads).toBe(1);
    expect(cache.held()).toEqual({ blobs: 1, bytes: image.length, loading: 0 });
    const later = await Promise.all(ranges.map((r) => download(cache, sha256, r)));
    ranges.forEach((r, i) =>
      expect(later[i]!.equals(image.subarray(r.start, r.end + 1))).toBe(true),
    );
    expect(calls.sends).toBe(ranges.length);
    expect(calls.loads).toBe(1);
    // A range past the held bytes (a size recorded wrongly) fails rather than sending short.
    await expect(
      cache.send!(I1, sha256, { start: 0, end: image.length }, slowSink().sink),
    ).rejects.toThrow(/range ends at/);
  });

  it('ok/least recently used images make room, and one larger than the budget is never held but still served', async () => {
    const { store: inner, calls } = counted(files);
    const cache = createCachedBlobStore(inner, { maxBytes: 2 * MiB });
    const [a, b, c] = [randomBytes(MiB), randomBytes(MiB), randomBytes(MiB)];
    const [A, B, C] = await Promise.all([a, b, c].map((x) => cache.put(I1, [x])));
    const whole = (x: Buffer) => ({ start: 0, end: x.length - 1 });
    await download(cache, A!.sha256, whole(a));
    await until(() => cache.held().blobs === 1);
    await download(cache, B!.sha256, whole(b));
    await until(() => cache.held().blobs === 2);
    // A used again, so B is the least recently used when C needs room.
    expect((await download(cache, A!.sha256, whole(a))).equals(a)).toBe(true);
    await download(cache, C!.sha256, whole(c));
    await until(() => calls.loads === 3 && cache.held().blobs === 2);
    expect(cache.held().bytes).toBe(2 * MiB);
    const sends = calls.sends;
    expect((await download(cache, A!.sha256, whole(a))).equals(a)).toBe(true);
    expect((await download(cache, C!.sha256, whole(c))).equals(c)).toBe(true);
    expect(calls.sends).toBe(sends);
    expect((await download(cache, B!.sha256, whole(b))).equals(b)).toBe(true);
    expect(calls.sends).toBe(sends + 1);

    const big = randomBytes(2 * MiB + 1);
    const { sha256 } = await cache.put(I1, [big]);
    for (let i = 0; i < 3; i++) {
      expect((await download(cache, sha256, whole(big))).equals(big)).toBe(true);
    }
    // Loaded neither at once nor later: only B's load (it was let go, then asked for again) ran.
    await until(() => cache.held().loading === 0);
    expect(calls.loads).toBe(4);
    expect(cache.held().bytes).toBeLessThanOrEqual(2 * MiB);
  });

  it('ok/an image idle for ten minutes is let go, and a deleted one at once', async () => {
    let t = 0;
    const cache = createCachedBlobStore(files, { maxBytes: 8 * MiB, now: () => t });
    const [a, b] = [randomBytes(100_000), randomBytes(100_000)];
    const [A, B] = await Promise.all([a, b].map((x) => cache.put(I1, [x])));
    await download(cache, A!.sha256, { start: 0, end: 9 });
    await until(() => cache.held().blobs === 1);
    t = 10 * 60_000 + 1;
    await download(cache, B!.sha256, { start: 0, end: 9 });
    await until(() => cache.held().blobs === 1 && cache.held().bytes === b.length);
    expect(
      (await download(cache, B!.sha256, { start: 5, end: 99_999 })).equals(b.subarray(5)),
    ).toBe(true);
    await cache.delete(I1, B!.sha256);
    expect(cache.held()).toEqual({ blobs: 0, bytes: 0, loading: 0 });
    await expect(download(cache, B!.sha256, { start: 0, end: 9 })).rejects.toThrow(/no blob/);
  });

  it('fail/bytes that do not hash to their name are never held', async () => {
    const dir = path.join(root, 'tampered');
    const store = createFileBlobStore(dir);
    const image = randomBytes(500_000);
    const { sha256 } = await store.put(I1, [image]);
    const flipped = Buffer.from(image);
    flipped[1000]! ^= 1;
    writeFileSync(path.join(dir, I1, sha256), flipped);
    const { store: inner, calls } = counted(store);
    const cache = createCachedBlobStore(inner, { maxBytes: 8 * MiB });
    expect(
      (await download(cache, sha256, { start: 0, end: 9 })).equals(image.subarray(0, 10)),
    ).toBe(true);
    await until(() => calls.loads === 1 && cache.held().loading === 0);
    expect(cache.held().blobs).toBe(0);
  });

  it('ok/a download from memory stops quietly when the reader goes away, or has gone already', async () => {
    const cache = createCachedBlobStore(files, { maxBytes: 8 * MiB });
    const image = randomBytes(2 * MiB);
    const { sha256 } = await cache.put(I1, [image]);
    await download(cache, sha256, { start: 0, end: 0 });
    await until(() => cache.held().blobs === 1);
    const { sink, body } = slowSink({ stopAfter: 300_000 });
    await cache.send!(I1, sha256, { start: 0, end: image.length - 1 }, sink);
    expect(body().length).toBeLessThan(image.length);
    expect(image.subarray(0, body().length).equals(body())).toBe(true);
    const gone = slowSink();
    gone.sink.destroy();
    await finished(gone.sink).catch(() => undefined);
    await cache.send!(I1, sha256, { start: 0, end: image.length - 1 }, gone.sink);
    expect(gone.body().length).toBe(0);
  });

  it('ok/a store without send is streamed, and a budget of 0 holds nothing', async () => {
    const noSend: FirmwareBlobStore = { ...files, send: undefined };
    const image = randomBytes(MiB + 17);
    const { sha256 } = await files.put(I1, [image]);
    const off = createCachedBlobStore(noSend, { maxBytes: 0 });
    const range = { start: 17, end: MiB + 16 };
    expect((await download(off, sha256, range)).equals(image.subarray(17))).toBe(true);
    expect(off.held()).toEqual({ blobs: 0, bytes: 0, loading: 0 });
    const on = createCachedBlobStore(noSend, { maxBytes: 4 * MiB });
    expect((await download(on, sha256, range)).equals(image.subarray(17))).toBe(true);
    await until(() => on.held().blobs === 1);
    expect((await download(on, sha256, range)).equals(image.subarray(17))).toBe(true);
  });
});
