/**
 * Hub token: a signed token for an AWS IoT Core custom authorizer the platform set up
 * (PRODUCT.md H3, custom authentication).
 *
 *   -> POST /device/v1/hub-token      TLS client certificate or Bearer
 *        {}
 *   <- 200 { authorizerName, tokenKeyName, token, signature, expiresAt, mqttUsername }
 *   <- 401 unauthorized | 403 device-revoked | 404 not-found (the device's hub has no custom
 *      authentication) | 409 not-ready (the authorizer is not set up yet)
 *
 * `token` is a JWT (RS256, sub = device ID, aud = the authorizer name) the authorizer's Lambda
 * reads; `signature` is the base64 RSA-SHA256 signature over the whole token that AWS IoT
 * checks with the public key registered in the authorizer before it invokes the Lambda.
 * `mqttUsername` carries both as AWS IoT reads them on port 443 with ALPN `mqtt`.
 */
import { z } from 'zod';
import { isoTimeSchema } from './common-schemas.js';

export const hubTokenRequestSchema = z.strictObject({});
export type HubTokenRequest = z.infer<typeof hubTokenRequestSchema>;

export const hubTokenResponseSchema = z.strictObject({
  authorizerName: z.string().min(1).max(128),
  tokenKeyName: z.string().min(1).max(128),
  token: z
    .string()
    .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    .max(8192),
  signature: z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/)
    .max(2048),
  expiresAt: isoTimeSchema,
  mqttUsername: z.string().max(16384),
});
export type HubTokenResponse = z.infer<typeof hubTokenResponseSchema>;
