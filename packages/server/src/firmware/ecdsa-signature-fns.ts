/**
 * Converts between the DER ECDSA-Sig-Value the key store returns and the fixed-size (r, s)
 * big-endian integers that raw formats (ESP32 signature blocks) carry.
 */

function readLength(der: Buffer, at: number): { length: number; next: number } | undefined {
  const first = der[at];
  if (first === undefined) return undefined;
  if (first < 0x80) return { length: first, next: at + 1 };
  const count = first & 0x7f;
  // An ECDSA signature is far below 64 KiB: more than two length octets is not one of ours.
  if (count === 0 || count > 2 || at + 1 + count > der.length) return undefined;
  let length = 0;
  for (let i = 0; i < count; i++) length = (length << 8) | der[at + 1 + i]!;
  return { length, next: at + 1 + count };
}

function readInteger(
  der: Buffer,
  at: number,
  size: number,
): { value: Buffer; next: number } | undefined {
  if (der[at] !== 0x02) return undefined;
  const len = readLength(der, at + 1);
  if (!len || len.length === 0 || len.next + len.length > der.length) return undefined;
  let bytes = der.subarray(len.next, len.next + len.length);
  if (bytes[0]! & 0x80) return undefined; // r and s are positive
  while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.subarray(1);
  if (bytes.length > size) return undefined;
  const value = Buffer.alloc(size);
  bytes.copy(value, size - bytes.length);
  return { value, next: len.next + len.length };
}

/**
 * Splits a DER ECDSA signature into r and s, each left-padded to `size` bytes (32 for P-256).
 * Returns undefined for anything that is not exactly SEQUENCE { INTEGER, INTEGER }.
 */
export function ecdsaDerToRs(der: Buffer, size: number): { r: Buffer; s: Buffer } | undefined {
  if (der[0] !== 0x30) return undefined;
  const seq = readLength(der, 1);
  if (!seq || seq.next + seq.length !== der.length) return undefined;
  const r = readInteger(der, seq.next, size);
  if (!r) return undefined;
  const s = readInteger(der, r.next, size);
  if (!s || s.next !== der.length) return undefined;
  return { r: r.value, s: s.value };
}
