import { crc32 } from './crc32-fns.js';

/**
 * Byte layout of Espressif's Secure Boot V2 signature sector, as written by `espsecure sign_data
 * --version 2` (esptool) and read by the ESP32 ROM and bootloader. All multi-byte integers and
 * big numbers are little-endian.
 *
 * Signed image = image padded with 0xFF to a 4 KiB multiple, then one 4 KiB signature sector:
 * up to three 1216-byte signature blocks, the rest 0xFF.
 *
 * Block, RSA-3072 (version 0x02):          Block, ECDSA P-256 (version 0x03):
 *   0     magic 0xE7                          0     magic 0xE7
 *   1     version 0x02                        1     version 0x03
 *   2..4  reserved, zero                      2     hash: 0x00 = SHA-256
 *   4..36 SHA-256 of the padded image         3     reserved, zero
 *   36    modulus n, 384 bytes                4..36 SHA-256 of the padded image
 *   420   exponent e, uint32                  36    curve id: 2 = P-256
 *   424   R = 2^6144 mod n, 384 bytes         37    x, 32 bytes
 *   808   M' = -n^-1 mod 2^32, uint32         69    y, 32 bytes
 *   812   RSA-PSS signature, 384 bytes        101   r, 32 bytes
 *   1196  CRC-32 of bytes 0..1196             133   s, 32 bytes
 *   1200  16 bytes of zero                    165..1196 zero; 1196 CRC-32; 1200 16 zero bytes
 *
 * The eFuse key digest is the SHA-256 of the public key part: bytes 36..812 (RSA) or 36..101
 * (ECDSA).
 */

export const SECTOR_SIZE = 4096;
export const SIG_BLOCK_SIZE = 1216;
export const SIG_BLOCK_MAX_COUNT = 3;
export const SIG_BLOCK_MAGIC = 0xe7;
export const SIG_BLOCK_VERSION_RSA = 0x02;
export const SIG_BLOCK_VERSION_ECDSA = 0x03;
export const ECDSA_HASH_SHA256 = 0x00;
export const CURVE_ID_P256 = 2;

const DIGEST_OFFSET = 4;
const DIGEST_SIZE = 32;
/** Where the public key starts in every block. */
export const KEY_OFFSET = 36;
/** The CRC covers everything before it. */
export const CRC_OFFSET = 1196;
const PAD_OFFSET = 1200;

export const RSA_BYTES = 384;
/** n, e, R, M'. */
export const RSA_KEY_SIZE = RSA_BYTES + 4 + RSA_BYTES + 4;
/** curve id, x, y. */
export const P256_KEY_SIZE = 1 + 32 + 32;
export const P256_SIGNATURE_SIZE = 64;

export type Esp32KeyType = 'RSA-3072' | 'P-256';

/** The fields of one signature block; key and signature exactly as stored (little-endian). */
export interface Esp32SignatureBlock {
  keyType: Esp32KeyType;
  imageDigest: Buffer;
  /** RSA_KEY_SIZE or P256_KEY_SIZE bytes. */
  publicKey: Buffer;
  /** 384 bytes (RSA) or r||s, 64 bytes (ECDSA). */
  signature: Buffer;
}

const sizesOf = (t: Esp32KeyType) =>
  t === 'RSA-3072'
    ? { version: SIG_BLOCK_VERSION_RSA, key: RSA_KEY_SIZE, sig: RSA_BYTES }
    : { version: SIG_BLOCK_VERSION_ECDSA, key: P256_KEY_SIZE, sig: P256_SIGNATURE_SIZE };

/** Writes one 1216-byte block, CRC included. */
export function encodeSignatureBlock(b: Esp32SignatureBlock): Buffer {
  const sizes = sizesOf(b.keyType);
  if (b.imageDigest.length !== DIGEST_SIZE) throw new Error('image digest must be 32 bytes');
  if (b.publicKey.length !== sizes.key || b.signature.length !== sizes.sig) {
    throw new Error(`public key or signature has the wrong size for ${b.keyType}`);
  }
  const block = Buffer.alloc(SIG_BLOCK_SIZE, 0);
  block[0] = SIG_BLOCK_MAGIC;
  block[1] = sizes.version;
  // Byte 2 is the ECDSA hash type (SHA-256 = 0) and reserved for RSA: zero either way.
  b.imageDigest.copy(block, DIGEST_OFFSET);
  b.publicKey.copy(block, KEY_OFFSET);
  b.signature.copy(block, KEY_OFFSET + sizes.key);
  block.writeUInt32LE(crc32(block.subarray(0, CRC_OFFSET)), CRC_OFFSET);
  return block;
}

export type DecodeResult = { ok: true; block: Esp32SignatureBlock } | { ok: false; reason: string };

const allBytes = (b: Buffer, value: number) => b.every((x) => x === value);

/**
 * Reads one block. Besides magic, version and CRC it insists on the canonical zero bytes, so a
 * block that differs from what espsecure writes in any byte is refused.
 */
export function decodeSignatureBlock(block: Buffer): DecodeResult {
  if (block.length !== SIG_BLOCK_SIZE) return { ok: false, reason: 'block is not 1216 bytes' };
  if (block[0] !== SIG_BLOCK_MAGIC) return { ok: false, reason: 'bad magic byte' };
  const crc = block.readUInt32LE(CRC_OFFSET);
  if (crc !== crc32(block.subarray(0, CRC_OFFSET))) return { ok: false, reason: 'CRC32 mismatch' };
  let keyType: Esp32KeyType;
  if (block[1] === SIG_BLOCK_VERSION_RSA) keyType = 'RSA-3072';
  else if (block[1] === SIG_BLOCK_VERSION_ECDSA) keyType = 'P-256';
  else return { ok: false, reason: `unsupported block version 0x${block[1]!.toString(16)}` };
  if (keyType === 'P-256' && block[2] !== ECDSA_HASH_SHA256) {
    return { ok: false, reason: 'only SHA-256 ECDSA blocks are supported' };
  }
  if (keyType === 'P-256' && block[KEY_OFFSET] !== CURVE_ID_P256) {
    return { ok: false, reason: `unsupported ECDSA curve id ${block[KEY_OFFSET]}` };
  }
  const sizes = sizesOf(keyType);
  const sigEnd = KEY_OFFSET + sizes.key + sizes.sig;
  if (
    block[3] !== 0 ||
    (keyType === 'RSA-3072' && block[2] !== 0) ||
    !allBytes(block.subarray(sigEnd, CRC_OFFSET), 0) ||
    !allBytes(block.subarray(PAD_OFFSET), 0)
  ) {
    return { ok: false, reason: 'reserved or padding bytes are not zero' };
  }
  return {
    ok: true,
    block: {
      keyType,
      imageDigest: block.subarray(DIGEST_OFFSET, DIGEST_OFFSET + DIGEST_SIZE),
      publicKey: block.subarray(KEY_OFFSET, KEY_OFFSET + sizes.key),
      signature: block.subarray(KEY_OFFSET + sizes.key, sigEnd),
    },
  };
}

/** The 4 KiB signature sector: the blocks in order, then 0xFF. */
export function assembleSignatureSector(blocks: Buffer[]): Buffer {
  if (blocks.length < 1 || blocks.length > SIG_BLOCK_MAX_COUNT) {
    throw new Error(`a signature sector holds 1 to ${SIG_BLOCK_MAX_COUNT} blocks`);
  }
  const sector = Buffer.alloc(SECTOR_SIZE, 0xff);
  blocks.forEach((b, i) => b.copy(sector, i * SIG_BLOCK_SIZE));
  return sector;
}

/** The image padded with 0xFF to a whole number of 4 KiB sectors (a copy). */
export function padToSector(image: Buffer): Buffer {
  const padded = Math.ceil(image.length / SECTOR_SIZE) * SECTOR_SIZE;
  const out = Buffer.alloc(padded, 0xff);
  image.copy(out);
  return out;
}
