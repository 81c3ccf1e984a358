/**
 * Database token: a short-lived credential for a database-direct connection (PRODUCT.md H7).
 *
 *   -> POST /device/v1/database-token      TLS client certificate or Bearer
 *        {}
 *   <- 200 { token, expiresAt, connection }
 *   <- 401 unauthorized | 403 device-revoked | 404 not-found (the policy has no database connection)
 *
 * `token` is a JWT (ES256) signed with the connection's own key: sub = device ID, aud = the
 * connection id, lifetime from the policy; the connection's public keys are published as JWKS.
 */
import { z } from 'zod';
import { isoTimeSchema } from './common-schemas.js';
import { databaseBlockSchema } from './enrol-messages.js';

export const databaseTokenRequestSchema = z.strictObject({});
export type DatabaseTokenRequest = z.infer<typeof databaseTokenRequestSchema>;

export const databaseTokenResponseSchema = z.strictObject({
  token: z
    .string()
    .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    .max(8192),
  expiresAt: isoTimeSchema,
  connection: databaseBlockSchema,
});
export type DatabaseTokenResponse = z.infer<typeof databaseTokenResponseSchema>;
