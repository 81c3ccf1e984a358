import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, truncate } from 'node:fs/promises';
import { responsePlan, resumeHeaders } from './update-fns.js';

/**
 * An image answer whose body has not been read yet. Both the daemon's session client (a Node
 * response) and a fetch `Response` fit it, so one function does every download.
 */
export interface StreamedAnswer {
  status: number;
  header(name: string): string | undefined;
  /** The body as it arrives; iterating it is what reads the socket. */
  body: AsyncIterable<Uint8Array>;
  /** Drops a body the caller will not read. */
  discard(): void;
}

/** What one download attempt came to. */
export type ImageFetchResult =
  /** The file holds `expectedSize` bytes; `sha256` covers all of them. */
  | { kind: 'complete'; sha256: string }
  /** The connection broke or ended early: the bytes so far are kept for a resume. */
  | { kind: 'partial'; received: number; error: string }
  /**
   * The answer cannot be used. `transient` (5xx, 429): try again later; otherwise the image
   * itself is wrong (more bytes than announced, a range that does not fit) and the file is emptied.
   */
  | { kind: 'refused'; transient: boolean; reason: string };

export interface ImageFetchOptions {
  /** The partial file; it survives restarts, so a download resumes where it stopped. */
  file: string;
  /** Size from the verified manifest: no more bytes than this are ever accepted. */
  expectedSize: number;
  /** ETag of the bytes already in `file` (sent as If-Range when resuming). */
  etag: string | undefined;
  /** Called with the answer's ETag before any of its bytes are written, so it is persisted first. */
  saveEtag(etag: string | undefined): void;
  /** Told when the request asks for the rest after `from` bytes already on disk. */
  onResume?(from: number): void;
  /** Told when a resumed request got the whole image (200) and the file starts over. */
  onRestart?(from: number): void;
}

/** Sends the image request with these headers (Range, If-Range) and returns the unread answer. */
export type OpenImage = (headers: Record<string, string>) => Promise<StreamedAnswer>;

/** A fetch function for one device API path, as the update handler is given it. */
export type ImageFetch = (path: string, o: ImageFetchOptions) => Promise<ImageFetchResult>;

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/** Feeds the first `length` bytes of `file` to `hash` (the part a resume continues after). */
async function hashPrefix(hash: Hash, file: string, length: number): Promise<void> {
  if (length === 0) return;
  for await (const chunk of createReadStream(file, { start: 0, end: length - 1 }))
    hash.update(chunk as Buffer);
}

class TooLong extends Error {}

/**
 * One download attempt of an image into `file`, streamed: each chunk is hashed and written as it
 * arrives, so memory use does not depend on the image's size. With bytes already on disk it asks
 * for the rest (`Range` with `If-Range`), appends only a 206 whose Content-Range starts exactly
 * there and totals the manifest's size, and starts over on a 200 (the server sent the whole image,
 * for instance because it changed): new bytes are never spliced onto old ones. Nothing beyond
 * `expectedSize` is written. The SHA-256 returned covers the whole file, the kept prefix included.
 */
export async function fetchImage(
  openImage: OpenImage,
  o: ImageFetchOptions,
): Promise<ImageFetchResult> {
  let received = await sizeOf(o.file);
  if (received > o.expectedSize) {
    await truncate(o.file, 0);
    received = 0;
  }
  const hash = createHash('sha256');
  if (received === o.expectedSize && received > 0) {
    await hashPrefix(hash, o.file, received);
    return { kind: 'complete', sha256: hash.digest('hex') };
  }
  const headers = resumeHeaders(received, o.etag);
  if (headers.range) o.onResume?.(received);
  const res = await openImage(headers);
  const plan = responsePlan(
    res.status,
    res.header('content-range') ?? null,
    headers.range ? received : 0,
    o.expectedSize,
  );
  if (plan.action === 'refuse') {
    res.discard();
    // 5xx and 429 are the server's passing trouble; anything else is about this image.
    const transient = res.status >= 500 || res.status === 429;
    return { kind: 'refused', transient, reason: plan.reason };
  }
  if (!headers.range) {
    // Nothing was resumed (no ETag for the kept bytes): the answer starts at byte 0.
    received = 0;
  } else if (plan.action === 'restart') {
    // The whole image instead of the rest: never spliced onto the kept bytes.
    o.onRestart?.(received);
    received = 0;
  }
  const declared = Number(res.header('content-length') ?? NaN);
  if (Number.isFinite(declared) && received + declared > o.expectedSize) {
    res.discard();
    await truncate(o.file, 0).catch(() => undefined);
    return {
      kind: 'refused',
      transient: false,
      reason: `image has ${received + declared} bytes, manifest says ${o.expectedSize}`,
    };
  }
  o.saveEtag(res.header('etag'));
  await hashPrefix(hash, o.file, received);
  // 'w' empties the file for a fresh start; 'a' continues exactly after the kept prefix.
  const fh = await open(o.file, received === 0 ? 'w' : 'a', 0o600);
  try {
    for await (const bytes of res.body) {
      if (received + bytes.length > o.expectedSize) {
        throw new TooLong(`image is longer than the ${o.expectedSize} bytes announced`);
      }
      await fh.write(bytes);
      hash.update(bytes);
      received += bytes.length;
    }
  } catch (err) {
    res.discard();
    await fh.sync().catch(() => undefined);
    await fh.close();
    if (err instanceof TooLong) {
      await truncate(o.file, 0).catch(() => undefined);
      o.saveEtag(undefined);
      return { kind: 'refused', transient: false, reason: err.message };
    }
    return {
      kind: 'partial',
      received,
      error: err instanceof Error ? err.message : String(err),
    };
  }
  await fh.sync();
  await fh.close();
  if (received !== o.expectedSize) {
    return {
      kind: 'partial',
      received,
      error: `connection ended after ${received} of ${o.expectedSize} bytes`,
    };
  }
  return { kind: 'complete', sha256: hash.digest('hex') };
}

/** The image fetch over a fetch-style request function (tests' mutual-TLS client, for one). */
export function fetchImageVia(
  request: (
    method: string,
    path: string,
    init?: { headers?: Record<string, string> },
  ) => Promise<Response>,
): ImageFetch {
  return (path, o) =>
    fetchImage(async (headers) => {
      const res = await request('GET', path, { headers });
      const body = res.body;
      return {
        status: res.status,
        header: (name) => res.headers.get(name) ?? undefined,
        body: body ?? (async function* () {})(),
        discard: () => void body?.cancel().catch(() => undefined),
      };
    }, o);
}
