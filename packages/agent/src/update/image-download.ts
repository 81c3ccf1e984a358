import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, truncate } from 'node:fs/promises';
import { checkImageAgainstManifest } from '@trustlink/protocol';
import { responsePlan, resumeHeaders } from './update-fns.js';
import type { DeviceApiRequest, UpdateLogger } from './update-types.js';

export type DownloadResult =
  | { ok: true }
  /** `final`: the image itself is wrong (report failed); otherwise the link is (try later). */
  | { ok: false; final: boolean; reason: string };

export interface DownloadOptions {
  request: DeviceApiRequest;
  /** Device API path of the image. */
  path: string;
  /** The partial file; it survives restarts, so a download resumes where it stopped. */
  file: string;
  expected: { size: number; sha256: string };
  /** ETag of the bytes already in `file`, from an earlier attempt. */
  etag: string | undefined;
  /** Called with the image's ETag before its bytes are written, so it is persisted first. */
  saveEtag(etag: string | undefined): void;
  logger: UpdateLogger;
  /** Attempts within this call when the connection breaks (each resumes). */
  attempts?: number;
  /** Pause before attempt n (1-based), in ms. */
  backoffMs?: (attempt: number) => number;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

async function sha256OfFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

class ImageRefused extends Error {}

/**
 * Downloads an update image into `file`, resuming with `Range` and `If-Range` after any
 * interruption (in this call or a previous run), never accepting more bytes than the manifest
 * announces, then checks size and SHA-256 against the manifest. A wrong image is deleted.
 */
export async function downloadImage(o: DownloadOptions): Promise<DownloadResult> {
  const attempts = o.attempts ?? 4;
  const backoff = o.backoffMs ?? ((n) => Math.min(30_000, 500 * 2 ** (n - 1)));
  let etag = o.etag;
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, backoff(attempt - 1)));
    let received = await sizeOf(o.file);
    if (received > o.expected.size) {
      await truncate(o.file, 0);
      received = 0;
    }
    if (received === o.expected.size && received > 0) break;
    try {
      const headers = resumeHeaders(received, etag);
      if (received > 0) o.logger.info('resuming image download', { from: received, etag });
      const res = await o.request('GET', o.path, { headers });
      const plan = responsePlan(
        res.status,
        res.headers.get('content-range'),
        headers.range ? received : 0,
        o.expected.size,
      );
      if (plan.action === 'refuse') {
        await res.body?.cancel().catch(() => undefined);
        // 5xx and 429 are the server's passing trouble; anything else is about this update.
        const transient = res.status >= 500 || res.status === 429;
        if (transient) {
          lastError = plan.reason;
          continue;
        }
        return { ok: false, final: true, reason: plan.reason };
      }
      if (plan.action === 'restart') received = 0;
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (Number.isFinite(declared) && received + declared > o.expected.size) {
        await res.body?.cancel().catch(() => undefined);
        return {
          ok: false,
          final: true,
          reason: `image has ${received + declared} bytes, manifest says ${o.expected.size}`,
        };
      }
      etag = res.headers.get('etag') ?? undefined;
      o.saveEtag(etag);
      const fh = await open(o.file, received === 0 ? 'w' : 'a', 0o600);
      try {
        if (!res.body) throw new Error('image response has no body');
        for await (const chunk of res.body) {
          const bytes = chunk as Uint8Array;
          if (received + bytes.length > o.expected.size) {
            throw new ImageRefused(`image is longer than the ${o.expected.size} bytes announced`);
          }
          await fh.write(bytes);
          received += bytes.length;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (received === o.expected.size) break;
      lastError = `connection ended after ${received} of ${o.expected.size} bytes`;
    } catch (err) {
      if (err instanceof ImageRefused) {
        await truncate(o.file, 0).catch(() => undefined);
        return { ok: false, final: true, reason: err.message };
      }
      lastError = err instanceof Error ? err.message : String(err);
      o.logger.warn('image download interrupted', {
        attempt,
        received: await sizeOf(o.file),
        error: lastError,
      });
    }
  }
  const size = await sizeOf(o.file);
  if (size !== o.expected.size) {
    return { ok: false, final: false, reason: lastError || 'download incomplete' };
  }
  const check = checkImageAgainstManifest(o.expected, { size, sha256: await sha256OfFile(o.file) });
  if (!check.ok) {
    // Start from scratch next time: a resumed download would keep the bad bytes.
    await truncate(o.file, 0);
    o.saveEtag(undefined);
    return { ok: false, final: true, reason: `${check.reason}: ${check.detail}` };
  }
  return { ok: true };
}
