import { z } from 'zod';
import { fromBase64url } from '../encoding/base64url.js';
import { DEVICE_ID_PATTERN } from '../identity/device-id.js';

/** Canonical unpadded base64url (binary values on the wire: DER, signatures, keys). */
export function base64urlSchema(maxBytes: number) {
  return z
    .string()
    .min(1)
    .max(Math.ceil((maxBytes * 4) / 3))
    .refine((s) => fromBase64url(s) !== undefined, {
      message: 'must be canonical unpadded base64url',
    });
}

/** A DER certificate, CSR or key in base64url; 16 KiB is far above any real one. */
export const derSchema = base64urlSchema(16 * 1024);

/** A timestamp: ISO 8601 in UTC with `Z` (the form the server writes everywhere). */
export const isoTimeSchema = z.iso.datetime();

/** A device ID: 64 lowercase hex characters. */
export const deviceIdSchema = z
  .string()
  .regex(DEVICE_ID_PATTERN, 'must be 64 lowercase hex characters');

/** An opaque platform identifier (instances, batches, firmware, keys, updates: UUIDs today). */
export const opaqueIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'must be an identifier (letters, digits, ._:-)');

/** A SHA-256 digest as 64 lowercase hex characters. */
export const sha256HexSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters');
