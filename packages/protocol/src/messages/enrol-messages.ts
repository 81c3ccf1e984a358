/**
 * Enrol: a device proves its identity key and receives its certificate and everything it needs
 * to connect (PRODUCT.md D4).
 *
 *   -> POST /device/v1/challenge                                 (unless TLS client auth)
 *   <- { nonce, expiresAt }
 *   -> POST /device/v1/enrol
 *        Trustlink-Proof: spki=<identity SPKI>|cert=<factory cert>; nonce=...; sig=...   purpose "enrol"
 *        { csr, token?, factoryChain? }
 *   <- 200 { instanceId, deviceId, batchId, certificate, chain, trustAnchors, renewAt,
 *            hub?, signing?, database? }
 *   <- 401 unauthorized | 403 device-revoked | 409 challenge-replayed | 429 too-many-requests
 *
 * Idempotent: enrolling again with the same identity key returns the current certificate (or a
 * fresh one near expiry), never a second device. The proof covers the raw body, so it travels in
 * the header, not in the body as PROTOCOL.md first sketched.
 */
import { z } from 'zod';
import { derSchema, deviceIdSchema, isoTimeSchema, opaqueIdSchema } from './common-schemas.js';

/** Platform tokens (PRODUCT.md P6): the second factor for factory certificates. */
export const enrolTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{16,128}$/);

export const enrolRequestSchema = z.strictObject({
  /** PKCS#10 CSR (DER, base64url) for the identity key, or the operational key if the policy allows one. */
  csr: derSchema,
  /** A token of the auth cert's batch, for auth certs that require one. */
  token: enrolTokenSchema.optional(),
  /** Intermediate certificates between the factory certificate and the auth cert, leaf side first. */
  factoryChain: z.array(derSchema).max(8).optional(),
});
export type EnrolRequest = z.infer<typeof enrolRequestSchema>;

export const HUB_TYPES = [
  'mqtt',
  'mosquitto',
  'aws-iot-core',
  'azure-iot-hub',
  'azure-iot-central',
] as const;
const topicSchema = z.string().min(1).max(256);

/** Where and how the device connects for its data. */
export const hubBlockSchema = z.strictObject({
  type: z.enum(HUB_TYPES),
  endpoint: z.string().min(1).max(253),
  port: z.int().min(1).max(65535),
  /** MQTT client ID (the device ID on our brokers). */
  clientId: z.string().min(1).max(256),
  topics: z.strictObject({ publish: z.array(topicSchema), subscribe: z.array(topicSchema) }),
  /** CA certificates to trust for the hub's TLS endpoint (DER, base64url). */
  caCertificates: z.array(derSchema),
  /** Hub-specific settings (for example Azure's ID scope); never secrets. */
  extra: z.record(z.string(), z.string()),
});
export type HubBlock = z.infer<typeof hubBlockSchema>;

/** The public half of the batch's signing key, for manifests (PRODUCT.md F5). */
export const signingBlockSchema = z.strictObject({
  keyId: opaqueIdSchema,
  alg: z.enum(['ES256', 'ES384', 'PS256']),
  /** DER SubjectPublicKeyInfo, base64url. */
  publicKey: derSchema,
});
export type SigningBlock = z.infer<typeof signingBlockSchema>;

/** A database-direct connection (PRODUCT.md H7); the credential is a JWT from /database-token. */
export const databaseBlockSchema = z.strictObject({
  connectionId: opaqueIdSchema,
  type: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/),
  url: z.url(),
  database: z.string().min(1).max(128),
  dataSource: z.string().min(1).max(128).optional(),
  caCertificates: z.array(derSchema),
});
export type DatabaseBlock = z.infer<typeof databaseBlockSchema>;

export const enrolResponseSchema = z.strictObject({
  instanceId: opaqueIdSchema,
  deviceId: deviceIdSchema,
  batchId: opaqueIdSchema,
  /** The device certificate (DER, base64url). */
  certificate: derSchema,
  /** Issuing CA certificates from the device certificate's issuer up, root excluded. */
  chain: z.array(derSchema),
  /** The instance root(s) the device pins. */
  trustAnchors: z.array(derSchema).min(1),
  renewAt: isoTimeSchema,
  hub: hubBlockSchema.optional(),
  signing: signingBlockSchema.optional(),
  database: databaseBlockSchema.optional(),
});
export type EnrolResponse = z.infer<typeof enrolResponseSchema>;
