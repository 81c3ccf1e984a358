/**
 * Update: manifest, image, report (PRODUCT.md F4, F5).
 *
 *   -> GET  /device/v1/updates/{id}/manifest
 *   <- 200 application/jose      JWS compact, kid = signing key id (see manifest/)
 *   -> GET  /device/v1/updates/{id}/image            Range: bytes=<from>-   (resume)
 *   <- 200 | 206 application/octet-stream            ETag: "<sha256 hex>"
 *   -> POST /device/v1/updates/{id}/report           { status, detail?, at }
 *        status: downloading | installing | installed | failed (with detail)
 *   <- 204
 *   <- 401 unauthorized | 403 device-revoked | 404 not-found (unknown update or not this device's)
 *
 * The device verifies the manifest with the key from enrolment, then the image's size and
 * digest, and reports `failed` with a detail for any refusal (rollback, expired, mismatch).
 */
import { z } from 'zod';
import { isoTimeSchema, opaqueIdSchema } from './common-schemas.js';

export const MANIFEST_CONTENT_TYPE = 'application/jose';
export const IMAGE_CONTENT_TYPE = 'application/octet-stream';

export const updateParamsSchema = z.strictObject({ id: opaqueIdSchema });
export type UpdateParams = z.infer<typeof updateParamsSchema>;

/** The manifest body: a JWS compact string. */
export const manifestResponseSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
  .max(16 * 1024);

export const UPDATE_REPORT_STATUSES = ['downloading', 'installing', 'installed', 'failed'] as const;

export const updateReportSchema = z.strictObject({
  status: z.enum(UPDATE_REPORT_STATUSES),
  /** What went wrong, for operators (shown as reported by the device). */
  detail: z.string().max(1024).optional(),
  /** When it happened by the device's (signed-time) clock. */
  at: isoTimeSchema,
});
export type UpdateReport = z.infer<typeof updateReportSchema>;
