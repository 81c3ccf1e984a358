/**
 * Minimal DER: a strict reader for the few structures we parse from untrusted callers (CSRs,
 * OCSP requests, public keys) and a writer for the structures we build on the hot path
 * (device certificates, CRLs, OCSP responses). The reader refuses anything that is not
 * distinguished encoding (indefinite or non-minimal lengths, high tag numbers, trailing bytes),
 * so a value has exactly one encoding and hashes over it are stable.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One tag-length-value in a buffer: `start` is the tag byte, `body`..`end` the contents. */
export interface Tlv {
  tag: number;
  start: number;
  body: number;
  end: number;
}

/** Thrown by the reader; callers turn it into a `{ ok: false, reason }`. */
export class DerError extends Error {
  override name = 'DerError';
}

/** Reads the TLV at `offset`, which must end at or before `limit`. */
export function readTlv(buf: Buffer, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used here');
  let len = buf[offset + 1]!;
  let body = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError('indefinite length is not DER');
    if (n > 4) throw new DerError('length too large');
    if (body + n > limit) throw new DerError('truncated');
    if (buf[body] === 0) throw new DerError('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[body + i]!;
    if (len < 0x80) throw new DerError('non-minimal length');
    body += n;
  }
  const end = body + len;
  if (end > limit) throw new DerError('truncated');
  return { tag, start: offset, body, end };
}

/** Reads exactly one TLV covering the whole buffer. */
export function readRoot(buf: Buffer): Tlv {
  const t = readTlv(buf, 0, buf.length);
  if (t.end !== buf.length) throw new DerError('trailing data after the DER value');
  return t;
}

/** The children of a constructed TLV, in order; they must exactly fill it. */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = parent.body;
  while (p < parent.end) {
    const c = readTlv(buf, p, parent.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

/** Asserts a TLV's tag, naming what was expected. */
export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`${what}: unexpected structure`);
  return t;
}

export const bytesOf = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.start, t.end);
export const bodyOf = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.body, t.end);

/** A DER INTEGER's contents, checked minimal; `positive` refuses negatives. */
export function integerBody(buf: Buffer, t: Tlv, positive = true): Buffer {
  const b = bodyOf(buf, expectTag(t, TAG.INTEGER, 'INTEGER'));
  if (b.length === 0) throw new DerError('empty INTEGER');
  if (b.length > 1 && ((b[0] === 0 && !(b[1]! & 0x80)) || (b[0] === 0xff && b[1]! & 0x80))) {
    throw new DerError('non-minimal INTEGER');
  }
  if (positive && b[0]! & 0x80) throw new DerError('negative INTEGER');
  return b;
}

/** Decodes an OBJECT IDENTIFIER to dotted form. */
export function oidOf(buf: Buffer, t: Tlv): string {
  const b = bodyOf(buf, expectTag(t, TAG.OID, 'OBJECT IDENTIFIER'));
  if (b.length === 0) throw new DerError('empty OID');
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    const byte = b[i]!;
    if (v === 0 && byte === 0x80) throw new DerError('non-minimal OID');
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    } else if (i === b.length - 1) throw new DerError('truncated OID');
  }
  return parts.join('.');
}

// ---- writer ----

/** The tag and length octets of a TLV whose contents are `len` bytes long. */
export function header(tag: number, len: number): Buffer {
  if (len < 0x80) return Buffer.from([tag, len]);
  if (len < 0x100) return Buffer.from([tag, 0x81, len]);
  if (len < 0x10000) return Buffer.from([tag, 0x82, len >> 8, len & 0xff]);
  if (len < 0x1000000) return Buffer.from([tag, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff]);
  return Buffer.from([tag, 0x84, len >>> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]);
}

/** A TLV from its tag and contents. */
export function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return Buffer.concat([header(tag, body.length), body]);
}

export const seq = (...parts: Buffer[]): Buffer => tlv(TAG.SEQUENCE, ...parts);
export const set = (...parts: Buffer[]): Buffer => tlv(TAG.SET, ...parts);
export const octetString = (b: Buffer): Buffer => tlv(TAG.OCTET_STRING, b);
export const bitString = (b: Buffer, unused = 0): Buffer =>
  tlv(TAG.BIT_STRING, Buffer.from([unused]), b);
export const derNull = (): Buffer => Buffer.from([TAG.NULL, 0]);
export const derBoolean = (v: boolean): Buffer => Buffer.from([TAG.BOOLEAN, 1, v ? 0xff : 0]);
/** Context-specific constructed [n] (EXPLICIT tagging, or IMPLICIT of a constructed type). */
export const explicit = (n: number, ...parts: Buffer[]): Buffer => tlv(0xa0 | n, ...parts);
/** Context-specific primitive [n] (IMPLICIT tagging of a primitive type). */
export const implicitPrimitive = (n: number, body: Buffer): Buffer => tlv(0x80 | n, body);

/** Minimal two's-complement contents of a non-negative integer given as big-endian bytes. */
export function unsignedIntegerBody(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const v = bytes.subarray(i);
  return v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v;
}

/** INTEGER from a non-negative number or big-endian bytes. */
export function integer(v: number | bigint | Buffer): Buffer {
  if (Buffer.isBuffer(v)) return tlv(TAG.INTEGER, unsignedIntegerBody(v));
  let hex = BigInt(v).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return tlv(TAG.INTEGER, unsignedIntegerBody(Buffer.from(hex, 'hex')));
}

export const enumerated = (v: number): Buffer => tlv(TAG.ENUMERATED, Buffer.from([v]));

/** OBJECT IDENTIFIER from dotted form. */
export function oid(dotted: string): Buffer {
  const p = dotted.split('.').map(Number);
  const arcs = [p[0]! * 40 + p[1]!, ...p.slice(2)];
  const out: number[] = [];
  for (const arc of arcs) {
    const chunk = [arc & 0x7f];
    let rest = Math.floor(arc / 128);
    while (rest > 0) {
      chunk.unshift((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    out.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/** GeneralizedTime YYYYMMDDHHMMSSZ (whole seconds; OCSP and CRL entries use it past 2049). */
export function generalizedTime(d: Date): Buffer {
  const s = `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(s, 'latin1'));
}

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050. */
export function x509Time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  if (y >= 2050 || y < 1950) return generalizedTime(d);
  const s = `${two(y % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  return tlv(TAG.UTC_TIME, Buffer.from(s, 'latin1'));
}
