import { createHash } from 'node:crypto';

/**
 * SHA-256 of a stream (a bundle on disk or arriving as an upload), so large content is hashed
 * piece by piece and never held whole; feeds `signDetachedCms({ sha256 })`.
 */
export async function sha256OfStream(source: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const hash = createHash('sha256');
  for await (const piece of source) hash.update(piece);
  return hash.digest();
}
