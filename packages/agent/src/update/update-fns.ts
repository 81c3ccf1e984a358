import type { ManifestPayload } from '@trustlink/protocol';

/** Parses `Content-Range: bytes a-b/total`; null for anything else (including `*`). */
export function parseContentRange(
  header: string | null,
): { start: number; end: number; total: number } | null {
  const m = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15})$/.exec(header?.trim() ?? '');
  if (!m) return null;
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (end < start || end >= total) return null;
  return { start, end, total };
}

/**
 * Headers for an image request that continues after `received` bytes. `If-Range` makes the
 * server send the whole image (200) instead of a range if the image changed since: new bytes are
 * never spliced onto old ones.
 */
export function resumeHeaders(received: number, etag: string | undefined): Record<string, string> {
  if (received <= 0 || !etag) return {};
  return { range: `bytes=${received}-`, 'if-range': etag };
}

/**
 * What to do with an image response when `received` bytes are already on disk: append (a 206
 * starting exactly there), restart from zero (a 200), or refuse (anything else).
 */
export function responsePlan(
  status: number,
  contentRange: string | null,
  received: number,
  expectedSize: number,
): { action: 'append' | 'restart' } | { action: 'refuse'; reason: string } {
  if (status === 200) return { action: 'restart' };
  if (status === 206) {
    const r = parseContentRange(contentRange);
    if (!r) return { action: 'refuse', reason: '206 without a valid Content-Range' };
    if (r.start !== received)
      return { action: 'refuse', reason: `206 starts at ${r.start}, expected ${received}` };
    if (r.total !== expectedSize)
      return {
        action: 'refuse',
        reason: `image has ${r.total} bytes, manifest says ${expectedSize}`,
      };
    return { action: 'append' };
  }
  return { action: 'refuse', reason: `image request answered ${status}` };
}

/** The environment of every hook: the update's facts, and where its files are. */
export function hookEnvironment(
  step: 'install' | 'activate' | 'confirm',
  update: { id: string; imageFile: string; manifestFile: string; manifestJwsFile: string },
  manifest: Pick<
    ManifestPayload,
    'name' | 'version' | 'securityVersion' | 'size' | 'sha256' | 'format' | 'firmwareId'
  >,
  stateDir: string,
): Record<string, string> {
  return {
    TRUSTLINK_UPDATE_STEP: step,
    TRUSTLINK_UPDATE_ID: update.id,
    TRUSTLINK_UPDATE_IMAGE: update.imageFile,
    TRUSTLINK_UPDATE_MANIFEST: update.manifestFile,
    TRUSTLINK_UPDATE_MANIFEST_JWS: update.manifestJwsFile,
    TRUSTLINK_UPDATE_FIRMWARE_ID: manifest.firmwareId,
    TRUSTLINK_UPDATE_NAME: manifest.name,
    TRUSTLINK_UPDATE_VERSION: manifest.version,
    TRUSTLINK_UPDATE_SECURITY_VERSION: String(manifest.securityVersion),
    TRUSTLINK_UPDATE_SIZE: String(manifest.size),
    TRUSTLINK_UPDATE_SHA256: manifest.sha256,
    TRUSTLINK_UPDATE_FORMAT: manifest.format,
    TRUSTLINK_STATE_DIR: stateDir,
  };
}

/** A report detail within the protocol's 1024 characters, keeping the end (where errors are). */
export function reportDetail(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length <= 1024 ? t : `…${t.slice(t.length - 1023)}`;
}
