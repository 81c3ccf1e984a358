/**
 * Renewal and certificate fetch.
 *
 *   -> POST /device/v1/renew          TLS client certificate or Bearer (current, unexpired certificate)
 *        { csr }                      same key, or a new one where the policy allows an operational key
 *   -> POST /device/v1/renew          after expiry, within the policy's grace period:
 *        Trustlink-Proof: spki=...|cert=...; nonce=...; sig=...   purpose "renew" (identity key)
 *        { csr }
 *   <- 200 { certificate, chain, notAfter, renewAt }
 *
 *   -> GET /device/v1/certificate     after an auto-renewal (status shows a new serial)
 *   <- 200 { certificate, chain, notAfter, renewAt }
 *   <- 401 unauthorized | 403 device-revoked
 */
import { z } from 'zod';
import { derSchema, isoTimeSchema } from './common-schemas.js';

export const renewRequestSchema = z.strictObject({
  /** PKCS#10 CSR, DER base64url. */
  csr: derSchema,
});
export type RenewRequest = z.infer<typeof renewRequestSchema>;

export const certificateResponseSchema = z.strictObject({
  certificate: derSchema,
  /** Issuing CA certificates from the issuer up, root excluded. */
  chain: z.array(derSchema),
  notAfter: isoTimeSchema,
  renewAt: isoTimeSchema,
});
export type CertificateResponse = z.infer<typeof certificateResponseSchema>;
