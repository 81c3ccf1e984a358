import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_TYPE_BASE } from '../lib/problem-handler.js';
import { contentRange, decideRange, etagMatches, imageEtag } from './http-range-fns.js';

/** A stored file to send: its digest (the entity tag), size, and how to open a range of it. */
export interface Downloadable {
  sha256: string;
  size: number;
  open(range?: { start: number; end: number }): Promise<Readable>;
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Sends a stored file with HTTP range support, streaming it from the blob store: `ETag` is the
 * SHA-256, `Range` gets 206 with Content-Range (honoured under If-Range only while the tag
 * still matches), an unsatisfiable range 416, and If-None-Match 304.
 */
export async function sendDownload(
  req: FastifyRequest,
  reply: FastifyReply,
  file: Downloadable,
  contentType: string,
  filename?: string,
): Promise<FastifyReply> {
  const etag = imageEtag(file.sha256);
  void reply.header('etag', etag).header('accept-ranges', 'bytes');
  // Immutable content named by its digest; only the caller may keep it.
  void reply.header('cache-control', 'private, no-transform');
  if (filename) void reply.header('content-disposition', `attachment; filename="${filename}"`);
  if (etagMatches(header(req, 'if-none-match'), etag)) return reply.status(304).send();
  const decision = decideRange(header(req, 'range'), file.size, {
    ifRange: header(req, 'if-range'),
    etag,
  });
  if (decision.kind === 'unsatisfiable') {
    return reply
      .status(416)
      .header('content-range', contentRange(decision, file.size)!)
      .type('application/problem+json')
      .send({
        type: `${PROBLEM_TYPE_BASE}range-not-satisfiable`,
        title: 'Range Not Satisfiable',
        status: 416,
        detail: `the range is outside the ${file.size} bytes of the file`,
        instance: req.url.split('?')[0],
        requestId: String(req.id),
      });
  }
  if (decision.kind === 'partial') {
    const stream = await file.open({ start: decision.start, end: decision.end });
    return reply
      .status(206)
      .header('content-range', contentRange(decision, file.size)!)
      .header('content-length', String(decision.end - decision.start + 1))
      .type(contentType)
      .send(stream);
  }
  const stream = await file.open();
  return reply
    .status(200)
    .header('content-length', String(file.size))
    .type(contentType)
    .send(stream);
}
