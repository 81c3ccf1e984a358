/**
 * One Intel HEX record (":LLAAAATT<data>CC"), checked on its own: start code, hex digits, byte
 * count against the real length, checksum, record type, and the fixed sizes of the address
 * records. Context rules (order, EOF, overlaps) live in intel-hex-fns.ts.
 */

export const RECORD_DATA = 0x00;
export const RECORD_EOF = 0x01;
export const RECORD_EXTENDED_SEGMENT_ADDRESS = 0x02;
export const RECORD_START_SEGMENT_ADDRESS = 0x03;
export const RECORD_EXTENDED_LINEAR_ADDRESS = 0x04;
export const RECORD_START_LINEAR_ADDRESS = 0x05;

/** The longest record: ':' + (1 count + 2 address + 1 type + 255 data + 1 checksum) * 2. */
export const MAX_RECORD_CHARS = 1 + (255 + 5) * 2;

export interface IntelHexRecord {
  type: number;
  /** The 16-bit load offset field. */
  offset: number;
  data: Buffer;
}

export type RecordResult = { ok: true; record: IntelHexRecord } | { ok: false; reason: string };

/** Data bytes each non-data record type must carry (EOF none, addresses 2 or 4). */
const FIXED_COUNT: Record<number, { count: number; name: string }> = {
  [RECORD_EOF]: { count: 0, name: 'end-of-file' },
  [RECORD_EXTENDED_SEGMENT_ADDRESS]: { count: 2, name: 'extended segment address' },
  [RECORD_START_SEGMENT_ADDRESS]: { count: 4, name: 'start segment address' },
  [RECORD_EXTENDED_LINEAR_ADDRESS]: { count: 2, name: 'extended linear address' },
  [RECORD_START_LINEAR_ADDRESS]: { count: 4, name: 'start linear address' },
};

const byteHex = (n: number) => `0x${n.toString(16).toUpperCase().padStart(2, '0')}`;

/** Parses one record; `text` must already be stripped of its line ending. */
export function parseIntelHexRecord(text: string): RecordResult {
  if (text[0] !== ':') {
    return { ok: false, reason: `a record must start with ':', found ${JSON.stringify(text[0])}` };
  }
  const bad = text.slice(1).search(/[^0-9A-Fa-f]/);
  if (bad >= 0) {
    return {
      ok: false,
      reason: `${JSON.stringify(text[bad + 1])} at column ${bad + 2} is not a hex digit`,
    };
  }
  const digits = text.length - 1;
  if (digits % 2 !== 0) return { ok: false, reason: 'odd number of hex digits' };
  if (digits < 10) {
    return {
      ok: false,
      reason: 'record too short: it needs a byte count, address, type and checksum',
    };
  }
  if (text.length > MAX_RECORD_CHARS) {
    return { ok: false, reason: `record longer than ${MAX_RECORD_CHARS} characters` };
  }
  const bytes = Buffer.from(text.slice(1), 'hex');
  const count = bytes[0]!;
  if (bytes.length !== count + 5) {
    return {
      ok: false,
      reason: `byte count says ${count} data bytes but the record holds ${bytes.length - 5}`,
    };
  }
  let sum = 0;
  for (const b of bytes) sum += b;
  if ((sum & 0xff) !== 0) {
    const stated = bytes[bytes.length - 1]!;
    const expected = (stated - sum) & 0xff;
    return {
      ok: false,
      reason: `checksum mismatch: the record says ${byteHex(stated)}, its bytes give ${byteHex(expected)}`,
    };
  }
  const type = bytes[3]!;
  const offset = bytes.readUInt16BE(1);
  if (type > RECORD_START_LINEAR_ADDRESS) {
    return { ok: false, reason: `unknown record type ${byteHex(type)}` };
  }
  const fixed = FIXED_COUNT[type];
  if (fixed && count !== fixed.count) {
    return {
      ok: false,
      reason: `${fixed.name} record must carry ${fixed.count} data bytes, not ${count}`,
    };
  }
  if (
    (type === RECORD_EXTENDED_SEGMENT_ADDRESS || type === RECORD_EXTENDED_LINEAR_ADDRESS) &&
    offset !== 0
  ) {
    return { ok: false, reason: `${fixed!.name} record must have address field 0000` };
  }
  return { ok: true, record: { type, offset, data: bytes.subarray(4, 4 + count) } };
}
