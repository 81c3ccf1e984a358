import {
  MAX_RECORD_CHARS,
  RECORD_DATA,
  RECORD_EOF,
  RECORD_EXTENDED_LINEAR_ADDRESS,
  RECORD_EXTENDED_SEGMENT_ADDRESS,
  RECORD_START_LINEAR_ADDRESS,
  RECORD_START_SEGMENT_ADDRESS,
  parseIntelHexRecord,
} from './intel-hex-record-fns.js';
import { createSparseImage, type FlatImage } from './sparse-image.js';

/**
 * Intel HEX to a flat binary. Input is consumed line by line, so an upload can be parsed while it
 * streams in; memory grows with the image, not with the text. Every refusal names its line.
 */

export interface IntelHexOptions {
  /** Largest span (lowest to highest address, gaps included) the image may have. */
  maxImageBytes: number;
}

/** The entry point from a type 03 (CS:IP) or type 05 (EIP) record. */
export type IntelHexStart =
  { type: 'segment'; cs: number; ip: number } | { type: 'linear'; eip: number };

export interface IntelHexImage extends FlatImage {
  start?: IntelHexStart;
}

export type IntelHexResult =
  { ok: true; image: IntelHexImage } | { ok: false; line: number; reason: string };

/** Lines longer than this cannot be records; stop buffering rather than hold a huge line. */
const MAX_LINE_CHARS = MAX_RECORD_CHARS + 256;

/**
 * An incremental parser: feed it lines (`line`) or raw text pieces (`chunk`), then `end()`.
 * After the first error it ignores further input and `end()` returns that error.
 */
export function createIntelHexParser(options: IntelHexOptions) {
  const image = createSparseImage(options.maxImageBytes);
  let lineNo = 0;
  let failure: IntelHexResult | undefined;
  let eofSeen = false;
  // Upper address bits from the last 02 (segment << 4) or 04 (linear << 16) record.
  let mode: 'segment' | 'linear' = 'linear';
  let base = 0;
  let start: IntelHexStart | undefined;
  let pending = '';

  const fail = (reason: string, line = lineNo) => {
    failure = { ok: false, line, reason };
    return false;
  };

  /** Handles one line (without its '\n'; a trailing '\r' and other trailing blanks are allowed). */
  function line(raw: string): boolean {
    if (failure) return false;
    lineNo++;
    const text = raw.replace(/[ \t\r]+$/, '');
    if (text === '') return true; // blank lines carry nothing (trailing newlines, editors)
    if (eofSeen) return fail('content after the end-of-file record');
    const parsed = parseIntelHexRecord(text);
    if (!parsed.ok) return fail(parsed.reason);
    const { type, offset, data } = parsed.record;
    switch (type) {
      case RECORD_DATA: {
        if (mode === 'segment' && offset + data.length > 0x10000) {
          // The spec wraps such a record inside its 64 KiB segment; tools disagree, so refuse.
          return fail('data record runs past the end of its 64 KiB segment');
        }
        const written = image.write(base + offset, data);
        return written.ok || fail(written.reason);
      }
      case RECORD_EOF:
        eofSeen = true;
        return true;
      case RECORD_EXTENDED_SEGMENT_ADDRESS:
        mode = 'segment';
        base = data.readUInt16BE(0) * 16;
        return true;
      case RECORD_EXTENDED_LINEAR_ADDRESS:
        mode = 'linear';
        base = data.readUInt16BE(0) * 0x10000;
        return true;
      case RECORD_START_SEGMENT_ADDRESS:
      case RECORD_START_LINEAR_ADDRESS: {
        const next: IntelHexStart =
          type === RECORD_START_SEGMENT_ADDRESS
            ? { type: 'segment', cs: data.readUInt16BE(0), ip: data.readUInt16BE(2) }
            : { type: 'linear', eip: data.readUInt32BE(0) };
        if (start && JSON.stringify(start) !== JSON.stringify(next)) {
          return fail('a second, different start address');
        }
        start = next;
        return true;
      }
      default:
        return fail(`unhandled record type ${type}`);
    }
  }

  /** Handles a piece of raw text; lines may span pieces (CRLF or LF endings). */
  function chunk(text: string): boolean {
    if (failure) return false;
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      const whole = pending + text.slice(from, nl);
      pending = '';
      from = nl + 1;
      if (!line(whole)) return false;
    }
    pending += text.slice(from);
    if (pending.length > MAX_LINE_CHARS) {
      return fail(`line longer than ${MAX_LINE_CHARS} characters`, lineNo + 1);
    }
    return true;
  }

  /** Finishes: flushes a last unterminated line and returns the image or the first error. */
  function end(): IntelHexResult {
    if (!failure && pending !== '') {
      const last = pending;
      pending = '';
      line(last);
    }
    if (failure) return failure;
    if (!eofSeen) {
      return {
        ok: false,
        line: Math.max(lineNo, 1),
        reason: 'missing end-of-file record (:00000001FF)',
      };
    }
    const flat = image.finish();
    if (!flat) return { ok: false, line: lineNo, reason: 'the file holds no data records' };
    return { ok: true, image: start ? { ...flat, start } : flat };
  }

  return { line, chunk, end };
}

/** Parses a whole Intel HEX text, or an iterable of its lines (one record per item). */
export function parseIntelHex(
  input: string | Iterable<string>,
  options: IntelHexOptions,
): IntelHexResult {
  const parser = createIntelHexParser(options);
  if (typeof input === 'string') parser.chunk(input);
  else for (const l of input) if (!parser.line(l)) break;
  return parser.end();
}

/**
 * Parses Intel HEX from a stream of raw pieces (a file or request body stream). Bytes are read
 * as Latin-1, so a multi-byte character split across pieces cannot confuse line splitting; any
 * non-ASCII byte is refused as a non-hex digit anyway. Stops reading at the first error.
 */
export async function parseIntelHexStream(
  source: AsyncIterable<string | Uint8Array>,
  options: IntelHexOptions,
): Promise<IntelHexResult> {
  const parser = createIntelHexParser(options);
  for await (const piece of source) {
    const text =
      typeof piece === 'string'
        ? piece
        : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength).toString('latin1');
    if (!parser.chunk(text)) break;
  }
  return parser.end();
}
