/**
 * Check-in: the most frequent call of a fleet, so it must stay cheap (no signing, one indexed read).
 *
 *   -> GET /device/v1/status                     TLS client certificate or Authorization: Bearer
 *        If-None-Match: <etag from the last 200>
 *        X-Firmware-Digest: <SHA-256 hex of the running image>
 *   <- 304                                        nothing changed
 *   <- 200 ETag: ... { state, certificate: { serial, notAfter, renewAt }, update?: { id, manifestUrl },
 *                      pollAfter }
 *   <- 401 unauthorized | 403 device-revoked | 429 too-many-requests (Retry-After)
 *
 * The ETag covers the device state and its current certificate, so a revocation or renewal is
 * never hidden behind a 304. When `certificate.serial` differs from the device's own, the
 * platform has auto-renewed: fetch it with GET /device/v1/certificate.
 */
import { z } from 'zod';
import { isoTimeSchema, opaqueIdSchema, sha256HexSchema } from './common-schemas.js';

export const FIRMWARE_DIGEST_HEADER = 'x-firmware-digest';

/** The request headers the server reads (lower case, as Node presents them; others pass). */
export const statusRequestHeadersSchema = z.object({
  'if-none-match': z.string().max(256).optional(),
  [FIRMWARE_DIGEST_HEADER]: sha256HexSchema.optional(),
});
export type StatusRequestHeaders = z.infer<typeof statusRequestHeadersSchema>;

/** Lifecycle states a device can be told (a revoked device gets 403 device-revoked instead). */
export const DEVICE_STATES = ['enrolled', 'renewed', 'expired'] as const;

export const statusResponseSchema = z.strictObject({
  state: z.enum(DEVICE_STATES),
  certificate: z.strictObject({
    /** Serial of the current certificate, lower-case hex. */
    serial: z.string().regex(/^[0-9a-f]{1,40}$/),
    notAfter: isoTimeSchema,
    renewAt: isoTimeSchema,
  }),
  update: z
    .strictObject({
      id: opaqueIdSchema,
      /** Path of the manifest on the device API. */
      manifestUrl: z.string().regex(/^\/device\/v1\/updates\/[A-Za-z0-9._:-]+\/manifest$/),
    })
    .optional(),
  /** Seconds until the next check-in. */
  pollAfter: z
    .int()
    .min(1)
    .max(7 * 24 * 3600),
});
export type StatusResponse = z.infer<typeof statusResponseSchema>;
