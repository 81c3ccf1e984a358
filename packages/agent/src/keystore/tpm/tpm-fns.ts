import type { KeyType, SignatureScheme } from '../key-store-types.js';
import { ecdsaDerFromRS } from '../signature-fns.js';

/**
 * Attributes of the identity key: created inside the TPM (sensitivedataorigin), bound to it
 * and to its parent (fixedtpm, fixedparent), usable with an empty password (userwithauth), for
 * signing only. Not `restricted`: it signs external data (CSRs, proofs).
 */
export const IDENTITY_KEY_ATTRIBUTES = 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign';
/** The attributes an existing key must have for the agent to use it. */
export const REQUIRED_ATTRIBUTES = ['fixedtpm', 'fixedparent', 'sensitivedataorigin', 'sign'];

/**
 * Template of the primary storage key the identity key lives under: fixed, so the TPM derives
 * the same primary from the hierarchy seed on every run (tpm2-tools defaults changed between
 * versions; spelling everything out keeps blobs loadable after an upgrade).
 */
export const PRIMARY_ARGS = [
  '-g',
  'sha256',
  '-G',
  'ecc256:aes128cfb',
  '-a',
  'restricted|decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda',
];

/** tpm2_create's algorithm for a key type: no fixed scheme, so one key can sign PSS and PKCS#1. */
export function tpmAlgorithm(keyType: KeyType): string {
  return {
    'P-256': 'ecc256:null',
    'P-384': 'ecc384:null',
    'RSA-2048': 'rsa2048:null',
    'RSA-3072': 'rsa3072:null',
  }[keyType];
}

/** tpm2_sign's hash and scheme options for a signature scheme. */
export function tpmSignArgs(scheme: SignatureScheme): string[] {
  switch (scheme) {
    case 'ecdsa-sha256':
      return ['-g', 'sha256', '-s', 'ecdsa'];
    case 'ecdsa-sha384':
      return ['-g', 'sha384', '-s', 'ecdsa'];
    case 'rsa-pss-sha256':
      return ['-g', 'sha256', '-s', 'rsapss'];
    case 'rsa-pkcs1-sha256':
      return ['-g', 'sha256', '-s', 'rsassa'];
  }
}

const TPM_ALG_RSASSA = 0x0014;
const TPM_ALG_RSAPSS = 0x0016;
const TPM_ALG_ECDSA = 0x0018;

/**
 * Converts a TPMT_SIGNATURE (tpm2_sign -f tss) to what the world expects: DER for ECDSA, the
 * plain signature for RSA. The TSS form is parsed rather than `-f plain` because the latter's
 * ECDSA encoding differs between tpm2-tools versions.
 */
export function signatureFromTss(tss: Buffer): Buffer {
  let off = 0;
  const u16 = () => {
    if (off + 2 > tss.length) throw new Error('truncated TPMT_SIGNATURE');
    const v = tss.readUInt16BE(off);
    off += 2;
    return v;
  };
  const sized = () => {
    const n = u16();
    if (off + n > tss.length) throw new Error('truncated TPMT_SIGNATURE');
    const b = tss.subarray(off, off + n);
    off += n;
    return b;
  };
  const alg = u16();
  u16(); // hash algorithm, checked by verifying the signature
  if (alg === TPM_ALG_ECDSA) {
    const r = sized();
    const s = sized();
    return ecdsaDerFromRS(Buffer.from(r), Buffer.from(s));
  }
  if (alg === TPM_ALG_RSASSA || alg === TPM_ALG_RSAPSS) return Buffer.from(sized());
  throw new Error(`unexpected TPM signature algorithm 0x${alg.toString(16)}`);
}

/** Handles listed by `tpm2_getcap handles-persistent`, lowercase. */
export function parseHandleList(stdout: string): string[] {
  return [...stdout.matchAll(/^-\s*(0x[0-9a-f]+)\s*$/gim)].map((m) => m[1]!.toLowerCase());
}

/** Object attributes from `tpm2_readpublic` output (`attributes:` then `value: a|b|c`). */
export function parseObjectAttributes(stdout: string): string[] {
  const m = /^attributes:\s*\n\s+value:\s*(\S+)/m.exec(stdout);
  return m ? m[1]!.split('|') : [];
}

/** Normalises a handle to lowercase 0x........ form for comparison. */
export function normaliseHandle(handle: string): string {
  return `0x${Number.parseInt(handle, 16).toString(16).padStart(8, '0')}`;
}
