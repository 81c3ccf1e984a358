/**
 * A memory image assembled from pieces written at arbitrary addresses (Intel HEX, S-records).
 * Memory stays proportional to the image: 4 KiB pages are allocated only where data lands, with
 * a one-bit-per-byte map of what was written, so overlaps are caught exactly and gaps read 0xFF
 * (erased flash).
 */

const PAGE_BITS = 12;
const PAGE_SIZE = 1 << PAGE_BITS;
const ADDRESS_SPACE = 2 ** 32;

interface Page {
  data: Buffer;
  written: Uint8Array;
}

/** A run of bytes that the input actually defined (gaps between runs are 0xFF fill). */
export interface ImageSegment {
  address: number;
  length: number;
}

/** A flat binary: `data[0]` sits at `baseAddress`; `segments` says which bytes were defined. */
export interface FlatImage {
  baseAddress: number;
  data: Buffer;
  segments: ImageSegment[];
}

export type WriteResult = { ok: true } | { ok: false; reason: string };

const hex = (n: number) => `0x${n.toString(16).toUpperCase().padStart(8, '0')}`;

/** Creates an empty sparse image whose span (lowest to highest byte) may not exceed the limit. */
export function createSparseImage(maxImageBytes: number) {
  const pages = new Map<number, Page>();
  let low = Infinity;
  let high = -Infinity; // exclusive

  const isWritten = (address: number): boolean => {
    const page = pages.get(Math.floor(address / PAGE_SIZE));
    if (!page) return false;
    const i = address % PAGE_SIZE;
    return (page.written[i >> 3]! & (1 << (i & 7))) !== 0;
  };

  /** Places `bytes` at `address`; refuses (writing nothing) on overlap or when over the limit. */
  function write(address: number, bytes: Uint8Array): WriteResult {
    if (bytes.length === 0) return { ok: true };
    const end = address + bytes.length;
    if (end > ADDRESS_SPACE) {
      return { ok: false, reason: `data at ${hex(address)} runs past the 4 GiB address space` };
    }
    const newLow = Math.min(low, address);
    const newHigh = Math.max(high, end);
    if (newHigh - newLow > maxImageBytes) {
      return {
        ok: false,
        reason: `image would span ${newHigh - newLow} bytes (${hex(newLow)} to ${hex(newHigh - 1)}), over the limit of ${maxImageBytes}`,
      };
    }
    // Check everything before changing anything, so a refused write leaves no trace.
    for (let a = address; a < end; a++) {
      if (isWritten(a)) return { ok: false, reason: `data at ${hex(a)} overlaps earlier data` };
    }
    let done = 0;
    while (done < bytes.length) {
      const a = address + done;
      const index = Math.floor(a / PAGE_SIZE);
      let page = pages.get(index);
      if (!page) {
        page = { data: Buffer.alloc(PAGE_SIZE, 0xff), written: new Uint8Array(PAGE_SIZE / 8) };
        pages.set(index, page);
      }
      const offset = a % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - offset, bytes.length - done);
      page.data.set(bytes.subarray(done, done + n), offset);
      for (let i = offset; i < offset + n; i++) page.written[i >> 3]! |= 1 << (i & 7);
      done += n;
    }
    low = newLow;
    high = newHigh;
    return { ok: true };
  }

  /** The flat image from the lowest to the highest written byte, or undefined when empty. */
  function finish(): FlatImage | undefined {
    if (pages.size === 0) return undefined;
    const data = Buffer.alloc(high - low, 0xff);
    const segments: ImageSegment[] = [];
    let runStart = -1;
    let runEnd = -1;
    for (const index of [...pages.keys()].sort((a, b) => a - b)) {
      const page = pages.get(index)!;
      const pageStart = index * PAGE_SIZE;
      const from = Math.max(pageStart, low);
      const to = Math.min(pageStart + PAGE_SIZE, high);
      page.data.copy(data, from - low, from - pageStart, to - pageStart);
      for (let i = 0; i < PAGE_SIZE; i++) {
        const bits = page.written[i >> 3]!;
        if (bits === 0 && (i & 7) === 0) {
          i += 7; // a whole byte of the map is empty: skip its eight addresses
          continue;
        }
        if ((bits & (1 << (i & 7))) === 0) continue;
        const a = pageStart + i;
        if (a === runEnd) {
          runEnd++;
        } else {
          if (runStart >= 0) segments.push({ address: runStart, length: runEnd - runStart });
          runStart = a;
          runEnd = a + 1;
        }
      }
    }
    segments.push({ address: runStart, length: runEnd - runStart });
    return { baseAddress: low, data, segments };
  }

  return { write, finish };
}
