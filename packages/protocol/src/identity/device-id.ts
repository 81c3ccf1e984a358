import { createHash, type KeyObject } from 'node:crypto';
import { type Result } from '../result.js';
import type { KeyType } from './key-types.js';
import { type SpkiFailure, parseCanonicalSpki } from './spki-canonical.js';

/** A device ID: 64 lowercase hex characters (PRODUCT.md D1). */
export const DEVICE_ID_PATTERN = /^[0-9a-f]{64}$/;

/**
 * The device ID of an identity key: lowercase hex SHA-256 of its DER SubjectPublicKeyInfo, which
 * must be the key's canonical encoding (see {@link parseCanonicalSpki}); any other encoding is
 * refused with a reason rather than re-encoded, so a device cannot choose between two IDs.
 * `decoded`: the key as OpenSSL already decoded it from these same bytes (a parsed
 * certificate's public key), so they are not decoded a second time.
 */
export function deviceIdFromSpki(
  spkiDer: Uint8Array,
  decoded?: KeyObject,
): Result<{ deviceId: string; keyType: KeyType }, SpkiFailure> {
  const parsed = parseCanonicalSpki(spkiDer, decoded);
  if (!parsed.ok) return parsed;
  return { ok: true, deviceId: deviceIdOfCanonicalSpki(parsed.spki), keyType: parsed.keyType };
}

/** The key type of a canonical SubjectPublicKeyInfo, or undefined if it is refused. */
export function keyTypeOfSpki(spkiDer: Uint8Array): KeyType | undefined {
  const parsed = parseCanonicalSpki(spkiDer);
  return parsed.ok ? parsed.keyType : undefined;
}

/** Whether a string is a well-formed device ID. */
export function isDeviceId(value: string): boolean {
  return DEVICE_ID_PATTERN.test(value);
}

/** The ID of an SPKI that has already passed {@link parseCanonicalSpki} (no second parse). */
export function deviceIdOfCanonicalSpki(canonicalSpki: Uint8Array): string {
  return createHash('sha256').update(canonicalSpki).digest('hex');
}
