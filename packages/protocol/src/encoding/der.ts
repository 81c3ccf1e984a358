/**
 * A strict DER reader and writer for the few structures the protocol inspects (public keys,
 * certificates up to their public key, ECDSA signatures). General ASN.1 libraries accept BER
 * (long lengths, indefinite forms, padded integers); here every such variant is an error, because
 * a second encoding of the same key would give the same device a second ID.
 */

/** Why a DER structure was refused. */
export type DerFailure =
  | 'truncated'
  | 'high-tag-number'
  | 'indefinite-length'
  | 'non-minimal-length'
  | 'length-too-large'
  | 'trailing-bytes'
  | 'unexpected-tag'
  | 'empty-integer'
  | 'non-minimal-integer'
  | 'negative-integer';

/** Thrown by the reader; public checks catch it and return `{ ok: false, reason }`. */
export class DerError extends Error {
  constructor(
    readonly reason: DerFailure,
    message: string,
  ) {
    super(message);
    this.name = 'DerError';
  }
}

/** One tag-length-value: `contents` is the value, `der` the whole encoding (both views). */
export interface Tlv {
  tag: number;
  contents: Buffer;
  der: Buffer;
}

export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  sequence: 0x30,
} as const;

/** Largest length we accept (4 length bytes); nothing in this protocol comes close. */
const MAX_LENGTH_BYTES = 4;

/** Reads the TLV that starts at `offset`; returns it and the offset after it. */
export function readTlv(buf: Buffer, offset: number): { tlv: Tlv; next: number } {
  if (offset + 2 > buf.length) throw new DerError('truncated', 'DER value is truncated');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high-tag-number', 'high tag numbers are not used');
  const first = buf[offset + 1]!;
  let length: number;
  let header: number;
  if (first < 0x80) {
    length = first;
    header = 2;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw new DerError('indefinite-length', 'indefinite length is not DER');
    if (count > MAX_LENGTH_BYTES) throw new DerError('length-too-large', 'DER length too large');
    if (offset + 2 + count > buf.length) throw new DerError('truncated', 'DER length truncated');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!;
    // DER: the long form only for 128 and up, and without leading zero bytes.
    if (buf[offset + 2] === 0 || length < 0x80) {
      throw new DerError('non-minimal-length', 'DER length is not in its shortest form');
    }
    header = 2 + count;
  }
  const end = offset + header + length;
  if (end > buf.length) throw new DerError('truncated', 'DER value is truncated');
  return {
    tlv: { tag, contents: buf.subarray(offset + header, end), der: buf.subarray(offset, end) },
    next: end,
  };
}

/** Reads a buffer that must hold exactly one TLV, with nothing after it. */
export function readOne(buf: Buffer, expectedTag?: number): Tlv {
  const { tlv, next } = readTlv(buf, 0);
  if (next !== buf.length) throw new DerError('trailing-bytes', 'bytes after the DER value');
  expectTag(tlv, expectedTag);
  return tlv;
}

/** The children of a constructed value; its contents must be exactly those children. */
export function readChildren(tlv: Tlv, expectedTag: number = TAG.sequence): Tlv[] {
  expectTag(tlv, expectedTag);
  const out: Tlv[] = [];
  let offset = 0;
  while (offset < tlv.contents.length) {
    const r = readTlv(tlv.contents, offset);
    out.push(r.tlv);
    offset = r.next;
  }
  return out;
}

function expectTag(tlv: Tlv, expectedTag: number | undefined): void {
  if (expectedTag !== undefined && tlv.tag !== expectedTag) {
    throw new DerError(
      'unexpected-tag',
      `expected tag 0x${expectedTag.toString(16)}, found 0x${tlv.tag.toString(16)}`,
    );
  }
}

/** The magnitude of a non-negative minimal INTEGER, without the sign byte. */
export function readUnsignedInteger(tlv: Tlv): Buffer {
  expectTag(tlv, TAG.integer);
  const c = tlv.contents;
  if (c.length === 0) throw new DerError('empty-integer', 'INTEGER has no contents');
  if (c[0]! & 0x80) throw new DerError('negative-integer', 'INTEGER is negative');
  if (c.length > 1 && c[0] === 0 && !(c[1]! & 0x80)) {
    throw new DerError('non-minimal-integer', 'INTEGER has a redundant leading zero byte');
  }
  return c[0] === 0 && c.length > 1 ? c.subarray(1) : c;
}

/** Encodes a DER length. */
export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encodes one TLV. */
export function encodeTlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

/** Encodes a non-negative integer given as big-endian magnitude, in its minimal form. */
export function encodeUnsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const m = Buffer.from(magnitude.subarray(start));
  const body =
    m.length === 0 ? Buffer.from([0]) : m[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : m;
  return encodeTlv(TAG.integer, body);
}
