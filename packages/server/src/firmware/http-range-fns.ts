/**
 * HTTP range requests (RFC 9110, section 14) for image downloads, single ranges only: what a
 * device needs to resume. Several ranges, other units and malformed headers are ignored (the
 * whole image is sent), which the RFC allows; a range that starts past the end is refused.
 */

export type RangeDecision =
  { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

const SINGLE = /^bytes=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/;

/**
 * Decides what to send for a `Range` header against an image of `size` bytes. `end` is
 * inclusive, as in Content-Range. `ifRange` is the request's If-Range: the range applies only
 * when it names the current entity tag (a date, or another tag, gets the whole image).
 */
export function decideRange(
  header: string | undefined,
  size: number,
  opts: { ifRange?: string; etag?: string } = {},
): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  if (opts.ifRange !== undefined && opts.ifRange.trim() !== opts.etag) return { kind: 'full' };
  const m = SINGLE.exec(header.trim());
  if (!m) return { kind: 'full' };
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return { kind: 'full' };
  // Digits beyond 15 overflow exact integers; such a range is not one this server can hold.
  if (first.length > 15 || last.length > 15) {
    return first === '' ? { kind: 'full' } : { kind: 'unsatisfiable' };
  }
  if (first === '') {
    // Suffix range: the last n bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return { kind: 'full' }; // invalid: ignored
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: 'partial', start, end };
}

/** The Content-Range value of a partial answer or of a 416. */
export function contentRange(decision: RangeDecision, size: number): string | undefined {
  if (decision.kind === 'partial') return `bytes ${decision.start}-${decision.end}/${size}`;
  if (decision.kind === 'unsatisfiable') return `bytes */${size}`;
  return undefined;
}

/** The strong entity tag of an image: its SHA-256 in quotes. */
export function imageEtag(sha256: string): string {
  return `"${sha256}"`;
}

/** True when an If-None-Match header names this entity tag (or `*`). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === etag);
}
