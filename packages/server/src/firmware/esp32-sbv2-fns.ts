import { constants, createHash, verify, type KeyObject } from 'node:crypto';
import { BadRequestError } from '../lib/errors.js';
import type { SignatureScheme } from '../keystore/keystore-types.js';
import { ecdsaDerToRs } from './ecdsa-signature-fns.js';
import {
  SECTOR_SIZE,
  SIG_BLOCK_MAGIC,
  SIG_BLOCK_MAX_COUNT,
  SIG_BLOCK_SIZE,
  assembleSignatureSector,
  decodeSignatureBlock,
  encodeSignatureBlock,
  padToSector,
  type Esp32KeyType,
} from './esp32-sbv2-layout.js';
import { esp32PublicKeyBlock, publicKeyFromBlock } from './esp32-sbv2-key-fns.js';
import type { FirmwareSigner } from './firmware-signer.js';

/**
 * ESP32 Secure Boot V2: sign an application or bootloader image the way `espsecure sign_data
 * --version 2` does, and verify such images. RSA-3072 signs with RSA-PSS (SHA-256, MGF1-SHA-256,
 * 32-byte salt); P-256 with ECDSA over SHA-256. Both are randomised, so two signatures of the
 * same image differ only in the signature bytes and the CRC that covers them.
 */

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();

const SCHEME: Record<Esp32KeyType, SignatureScheme> = {
  'RSA-3072': 'rsa-pss-sha256',
  'P-256': 'ecdsa-sha256',
};

/**
 * Checks a signature as stored in a block (little-endian) over the padded image. Never throws:
 * the block may be hostile, and a malformed value is simply not a valid signature.
 */
function signatureValid(
  keyType: Esp32KeyType,
  key: KeyObject,
  image: Buffer,
  stored: Buffer,
): boolean {
  try {
    if (keyType === 'RSA-3072') {
      const sig = Buffer.from(stored).reverse();
      const opts = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
      return verify('sha256', image, opts, sig);
    }
    // Stored as r and s, each little-endian; Node wants r || s big-endian (IEEE P1363).
    const rs = Buffer.concat([
      Buffer.from(stored.subarray(0, 32)).reverse(),
      Buffer.from(stored.subarray(32, 64)).reverse(),
    ]);
    return verify('sha256', image, { key, dsaEncoding: 'ieee-p1363' }, rs);
  } catch {
    return false;
  }
}

/** Signs a padded image through the signer and returns one encoded block. */
async function signBlock(
  padded: Buffer,
  signer: FirmwareSigner,
  publicKeySpki: Buffer,
  keyType: Esp32KeyType,
): Promise<Buffer> {
  const key = esp32PublicKeyBlock(publicKeySpki);
  if (key.keyType !== keyType) {
    throw new BadRequestError(`the public key is ${key.keyType}, not ${keyType}`);
  }
  const raw = await signer(padded, SCHEME[keyType]);
  let stored: Buffer;
  if (keyType === 'RSA-3072') {
    if (raw.length !== 384) throw new Error('the signer returned an RSA signature of wrong size');
    stored = Buffer.from(raw).reverse();
  } else {
    const rs = ecdsaDerToRs(raw, 32);
    if (!rs) throw new Error('the signer returned a malformed ECDSA signature');
    stored = Buffer.concat([rs.r.reverse(), rs.s.reverse()]);
  }
  const check = publicKeyFromBlock(keyType, key.block);
  // A signer bound to another key would produce an image no device accepts: catch it here.
  if (!check.ok || !signatureValid(keyType, check.key, padded, stored)) {
    throw new Error('the signature does not verify with the given public key (wrong signer?)');
  }
  return encodeSignatureBlock({
    keyType,
    imageDigest: sha256(padded),
    publicKey: key.block,
    signature: stored,
  });
}

/**
 * Signs `image` for ESP32 Secure Boot V2: returns the image padded with 0xFF to a 4 KiB multiple
 * followed by a signature sector holding one block for `publicKeySpki` (DER SPKI of the key the
 * signer uses; `keyType` must match it).
 */
export async function signEsp32SecureBootV2(
  image: Buffer,
  signer: FirmwareSigner,
  publicKeySpki: Buffer,
  keyType: Esp32KeyType,
): Promise<Buffer> {
  if (image.length === 0) throw new BadRequestError('cannot sign an empty image');
  const padded = padToSector(image);
  const block = await signBlock(padded, signer, publicKeySpki, keyType);
  return Buffer.concat([padded, assembleSignatureSector([block])]);
}

/**
 * Adds one more signature block to an image that is already validly signed (Secure Boot V2
 * allows up to three keys, so one can be revoked on the chip and the next used).
 */
export async function appendEsp32SecureBootV2Signature(
  signedImage: Buffer,
  signer: FirmwareSigner,
  publicKeySpki: Buffer,
  keyType: Esp32KeyType,
): Promise<Buffer> {
  const current = verifyEsp32SecureBootV2(signedImage);
  if (!current.ok) throw new BadRequestError(`not a validly signed image: ${current.reason}`);
  if (current.keyDigests.length >= SIG_BLOCK_MAX_COUNT) {
    throw new BadRequestError(`the image already has ${SIG_BLOCK_MAX_COUNT} signature blocks`);
  }
  const padded = signedImage.subarray(0, current.imageLength);
  const sector = signedImage.subarray(current.imageLength);
  const blocks = current.keyDigests.map((_, i) =>
    sector.subarray(i * SIG_BLOCK_SIZE, (i + 1) * SIG_BLOCK_SIZE),
  );
  blocks.push(await signBlock(padded, signer, publicKeySpki, keyType));
  return Buffer.concat([padded, assembleSignatureSector(blocks)]);
}

export type Esp32VerifyResult =
  | {
      ok: true;
      /** Length of the signed (padded) image; the signature sector follows it. */
      imageLength: number;
      /** The image digest each block carries, in block order (all equal). */
      digests: Buffer[];
      /** The eFuse key digest of each block's key, in block order. */
      keyDigests: Buffer[];
      keyTypes: Esp32KeyType[];
    }
  | { ok: false; reason: string };

/**
 * Verifies a Secure Boot V2 signed image: every block present (up to three, the first absent
 * one ends the list) must be canonical, carry the image's SHA-256, and hold a valid signature by
 * its own key. Blocks only prove possession of their key: pass `trustedKeyDigests` (the eFuse
 * digests a device holds) to also require that at least one block's key is trusted.
 */
export function verifyEsp32SecureBootV2(
  signedImage: Buffer,
  options: { trustedKeyDigests?: Buffer[] } = {},
): Esp32VerifyResult {
  if (signedImage.length < 2 * SECTOR_SIZE || signedImage.length % SECTOR_SIZE !== 0) {
    return {
      ok: false,
      reason: 'a signed image is at least two 4 KiB sectors and a whole number of sectors',
    };
  }
  const imageLength = signedImage.length - SECTOR_SIZE;
  const image = signedImage.subarray(0, imageLength);
  const sector = signedImage.subarray(imageLength);
  const imageDigest = sha256(image);
  const digests: Buffer[] = [];
  const keyDigests: Buffer[] = [];
  const keyTypes: Esp32KeyType[] = [];
  let i = 0;
  for (; i < SIG_BLOCK_MAX_COUNT; i++) {
    const raw = sector.subarray(i * SIG_BLOCK_SIZE, (i + 1) * SIG_BLOCK_SIZE);
    if (raw[0] !== SIG_BLOCK_MAGIC) break;
    const decoded = decodeSignatureBlock(raw);
    if (!decoded.ok) return { ok: false, reason: `signature block ${i}: ${decoded.reason}` };
    const { keyType, publicKey, signature } = decoded.block;
    if (!decoded.block.imageDigest.equals(imageDigest)) {
      return { ok: false, reason: `signature block ${i}: image digest does not match the image` };
    }
    const key = publicKeyFromBlock(keyType, publicKey);
    if (!key.ok) return { ok: false, reason: `signature block ${i}: ${key.reason}` };
    if (!signatureValid(keyType, key.key, image, signature)) {
      return { ok: false, reason: `signature block ${i}: signature is not valid` };
    }
    digests.push(Buffer.from(decoded.block.imageDigest));
    keyDigests.push(sha256(publicKey));
    keyTypes.push(keyType);
  }
  if (i === 0) return { ok: false, reason: 'no signature block in the last sector' };
  if (!sector.subarray(i * SIG_BLOCK_SIZE).every((b) => b === 0xff)) {
    return { ok: false, reason: 'the signature sector holds data after its last block' };
  }
  const trusted = options.trustedKeyDigests;
  if (trusted && !keyDigests.some((d) => trusted.some((t) => t.equals(d)))) {
    return { ok: false, reason: 'no signature block is made with a trusted key' };
  }
  return { ok: true, imageLength, digests, keyDigests, keyTypes };
}
