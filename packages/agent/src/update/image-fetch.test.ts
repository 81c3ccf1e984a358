import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchImage, type ImageFetchOptions, type StreamedAnswer } from './image-fetch.js';

const dir = mkdtempSync(path.join(tmpdir(), 'trustlink-image-fetch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const image = randomBytes(200_000);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const ETAG = `"${sha(image)}"`;

/** An answer as a server gives it, its body in 16 KiB chunks; `cutAfter` breaks the link. */
function answer(
  status: number,
  body: Buffer,
  headers: Record<string, string>,
  cutAfter?: number,
): StreamedAnswer & { discarded: boolean } {
  const a = {
    status,
    discarded: false,
    header: (name: string) => headers[name],
    body: (async function* () {
      for (let at = 0; at < body.length; at += 16_384) {
        if (cutAfter !== undefined && at >= cutAfter) throw new Error('connection reset');
        yield body.subarray(at, Math.min(body.length, at + 16_384));
      }
    })(),
    discard: () => {
      a.discarded = true;
    },
  };
  return a;
}

/** A server honouring Range (206 from the asked offset), recording what it was asked. */
function server(opts: { ignoreRange?: boolean; cutFirstAfter?: number; body?: Buffer } = {}) {
  const body = opts.body ?? image;
  const asked: Record<string, string>[] = [];
  const open = async (headers: Record<string, string>) => {
    asked.push(headers);
    const cut = asked.length === 1 ? opts.cutFirstAfter : undefined;
    const m = /^bytes=(\d+)-$/.exec(headers.range ?? '');
    if (m && !opts.ignoreRange && headers['if-range'] === ETAG) {
      const start = Number(m[1]);
      return answer(
        206,
        body.subarray(start),
        {
          etag: ETAG,
          'content-length': String(body.length - start),
          'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        },
        cut,
      );
    }
    return answer(200, body, { etag: ETAG, 'content-length': String(body.length) }, cut);
  };
  return { open, asked };
}

let n = 0;
function options(over: Partial<ImageFetchOptions> = {}) {
  const saved: (string | undefined)[] = [];
  const restarts: number[] = [];
  const o: ImageFetchOptions = {
    file: path.join(dir, `image-${++n}.img`),
    expectedSize: image.length,
    etag: undefined,
    saveEtag: (e) => saved.push(e),
    onRestart: (from) => restarts.push(from),
    ...over,
  };
  return { o, saved, restarts };
}

describe('fetchImage', () => {
  it('ok/a fresh download streams to the file and hashes every byte', async () => {
    const s = server();
    const { o, saved } = options();
    expect(await fetchImage(s.open, o)).toEqual({ kind: 'complete', sha256: sha(image) });
    expect(readFileSync(o.file).equals(image)).toBe(true);
    expect(s.asked).toEqual([{}]);
    expect(saved).toEqual([ETAG]);
    expect(statSync(o.file).mode & 0o777).toBe(0o600);
  });

  it('ok/a cut download resumes with Range and If-Range; the hash covers the kept prefix', async () => {
    const s = server({ cutFirstAfter: 70_000 });
    const { o } = options();
    const first = await fetchImage(s.open, o);
    expect(first).toMatchObject({ kind: 'partial', error: 'connection reset' });
    const kept = statSync(o.file).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(image.length);
    const second = await fetchImage(s.open, { ...o, etag: ETAG });
    expect(second).toEqual({ kind: 'complete', sha256: sha(image) });
    expect(s.asked[1]).toEqual({ range: `bytes=${kept}-`, 'if-range': ETAG });
    expect(readFileSync(o.file).equals(image)).toBe(true);
  });

  it('ok/a 200 to a resumed request starts the file over instead of appending', async () => {
    const s = server({ ignoreRange: true });
    const { o, restarts } = options({ etag: ETAG });
    // What an earlier run left: the first 50,000 bytes, with the last one wrong, so an append
    // (or a hash carried over from it) would show in the result.
    const partial = Buffer.from(image.subarray(0, 50_000));
    partial[49_999]! ^= 0xff;
    writeFileSync(o.file, partial);
    expect(await fetchImage(s.open, o)).toEqual({ kind: 'complete', sha256: sha(image) });
    expect(s.asked[0]).toEqual({ range: 'bytes=50000-', 'if-range': ETAG });
    expect(restarts).toEqual([50_000]);
    expect(readFileSync(o.file).equals(image)).toBe(true);
  });

  it('ok/without an ETag for the kept bytes, nothing is resumed: the whole image is fetched', async () => {
    const s = server();
    const { o, restarts } = options();
    writeFileSync(o.file, image.subarray(0, 1000));
    expect(await fetchImage(s.open, o)).toEqual({ kind: 'complete', sha256: sha(image) });
    expect(s.asked).toEqual([{}]);
    expect(readFileSync(o.file).equals(image)).toBe(true);
    // Not a resume answered with the whole image: nothing to warn about.
    expect(restarts).toEqual([]);
  });

  it('ok/a flipped byte is still a complete download; its hash is the flipped image', async () => {
    const flipped = Buffer.from(image);
    flipped[123_456]! ^= 0x01;
    const { o } = options();
    const r = await fetchImage(server({ body: flipped }).open, o);
    // The caller compares with the manifest (image-download.ts) and refuses it.
    expect(r).toEqual({ kind: 'complete', sha256: sha(flipped) });
    expect(sha(flipped)).not.toBe(sha(image));
  });

  it('fail/a body longer than the manifest says stops at the bound and empties the file', async () => {
    const longer = Buffer.concat([image, randomBytes(40_000)]);
    const s = server({ body: longer });
    // No Content-Length: the bound is enforced on the bytes themselves.
    const open = async (h: Record<string, string>) => {
      const a = await s.open(h);
      return { ...a, header: (name: string) => (name === 'etag' ? ETAG : undefined) };
    };
    const { o, saved } = options();
    const r = await fetchImage(open, o);
    expect(r).toEqual({
      kind: 'refused',
      transient: false,
      reason: `image is longer than the ${image.length} bytes announced`,
    });
    expect(statSync(o.file).size).toBe(0);
    expect(saved.at(-1)).toBeUndefined();
  });

  it('fail/a declared Content-Length beyond the manifest is refused before a byte is written', async () => {
    const s = server({ body: Buffer.concat([image, Buffer.alloc(1)]) });
    const { o, saved } = options();
    const r = await fetchImage(s.open, o);
    expect(r).toMatchObject({ kind: 'refused', transient: false });
    expect(saved).toEqual([]);
  });

  it.each([
    ['fail/206 that starts elsewhere', 'bytes 0-199999/200000', /206 starts at 0, expected 1000/],
    ['fail/206 for another size', 'bytes 1000-1999/2000', /image has 2000 bytes/],
    ['fail/206 without Content-Range', undefined, /206 without a valid Content-Range/],
  ])('%s', async (_name, contentRange, reason) => {
    const { o } = options({ etag: ETAG });
    writeFileSync(o.file, image.subarray(0, 1000));
    const a = answer(206, image.subarray(1000), {
      etag: ETAG,
      ...(contentRange ? { 'content-range': contentRange } : {}),
    });
    const r = await fetchImage(async () => a, o);
    expect(r).toMatchObject({
      kind: 'refused',
      transient: false,
      reason: expect.stringMatching(reason),
    });
    expect(a.discarded).toBe(true);
    // Nothing was appended.
    expect(statSync(o.file).size).toBe(1000);
  });

  it('ok/a 503 is refused as transient and the kept bytes stay', async () => {
    const { o } = options({ etag: ETAG });
    writeFileSync(o.file, image.subarray(0, 1000));
    const r = await fetchImage(async () => answer(503, Buffer.alloc(0), {}), o);
    expect(r).toMatchObject({ kind: 'refused', transient: true });
    expect(statSync(o.file).size).toBe(1000);
  });
});
