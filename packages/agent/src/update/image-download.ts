import { checkImageAgainstManifest } from '@trustlink/protocol';
import { truncate } from 'node:fs/promises';
import type { ImageFetch } from './image-fetch.js';
import type { UpdateLogger } from './update-types.js';

export type DownloadResult =
  | { ok: true }
  /** `final`: the image itself is wrong (report failed); otherwise the link is (try later). */
  | { ok: false; final: boolean; reason: string };

export interface DownloadOptions {
  fetch: ImageFetch;
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

/**
 * Downloads an update image into `file` (image-fetch.ts streams it to disk, resuming after any
 * interruption in this call or a previous run, never accepting more bytes than the manifest
 * announces), then checks size and SHA-256 against the manifest. A wrong image is deleted.
 */
export async function downloadImage(o: DownloadOptions): Promise<DownloadResult> {
  const attempts = o.attempts ?? 4;
  const backoff = o.backoffMs ?? ((n) => Math.min(30_000, 500 * 2 ** (n - 1)));
  let etag = o.etag;
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, backoff(attempt - 1)));
    let result;
    try {
      result = await o.fetch(o.path, {
        file: o.file,
        expectedSize: o.expected.size,
        etag,
        saveEtag: (e) => {
          etag = e;
          o.saveEtag(e);
        },
        onResume: (from) => o.logger.info('resuming image download', { from, etag }),
        onRestart: (from) =>
          o.logger.warn('the server sent the whole image, not the rest: starting over', {
            had: from,
          }),
      });
    } catch (err) {
      // The request did not get an answer (unreachable, refused, TLS): the file is untouched.
      result = {
        kind: 'partial' as const,
        received: -1,
        error: err instanceof Error ? err.message : String(err),
      };
    }
    if (result.kind === 'complete') {
      const check = checkImageAgainstManifest(o.expected, {
        size: o.expected.size,
        sha256: result.sha256,
      });
      if (check.ok) return { ok: true };
      // Start from scratch next time: a resumed download would keep the bad bytes.
      await truncate(o.file, 0);
      o.saveEtag(undefined);
      return { ok: false, final: true, reason: `${check.reason}: ${check.detail}` };
    }
    if (result.kind === 'refused') {
      if (!result.transient) return { ok: false, final: true, reason: result.reason };
      lastError = result.reason;
      continue;
    }
    lastError = result.error;
    o.logger.warn('image download interrupted', {
      attempt,
      ...(result.received >= 0 ? { received: result.received } : {}),
      error: lastError,
    });
  }
  return { ok: false, final: false, reason: lastError || 'download incomplete' };
}
