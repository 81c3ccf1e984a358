import { z } from 'zod';
import { DEVICE_KEY_TYPES } from './device-key-fns.js';
import { REVOCATION_REASON_NAMES } from './crl-fns.js';
import { ISSUING_KEY_TYPES } from './issuing-ca-service.js';
import { SIGNING_KEY_TYPES } from './signing-key-service.js';

export const idParams = z.object({ id: z.uuid('must be an id') });
export const chainQuery = z.object({
  chain: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
});

/** Root, issuing and TLS certificates of the instance. */
export const caCertificateSchema = z.object({
  id: z.string(),
  kind: z.enum(['root', 'issuing', 'tls']),
  name: z.string(),
  subject: z.string(),
  serial: z.string(),
  keyType: z.string().describe('the certificate key: P-256, P-384, RSA-2048, RSA-3072 or other'),
  notBefore: z.string(),
  notAfter: z.string(),
  status: z.enum(['valid', 'expired', 'not used']),
  issuerId: z.string().nullable(),
  issuedCount: z.number().int(),
  autoRenew: z.boolean(),
  lifetimeSeconds: z.number().int().nullable(),
  lineageId: z.string().nullable(),
  renewedBy: z.string().nullable(),
  renewAt: z.string().nullable(),
  retiredAt: z.string().nullable(),
  crlUrl: z.string().nullable(),
});

const lifetimeUnit = {
  minutes: 60,
  hours: 3600,
  days: 86400,
  months: 30 * 86400,
  years: 365 * 86400,
};

/** A lifetime as the console asks for it: a number of minutes to years. */
export const lifetimeSchema = z
  .object({
    value: z.number().int().min(1).max(100_000),
    unit: z.enum(['minutes', 'hours', 'days', 'months', 'years']),
  })
  .transform((l) => l.value * lifetimeUnit[l.unit]);

export const newIssuingCaSchema = z.object({
  name: z.string().min(1).max(64),
  lifetime: lifetimeSchema,
  keyType: z.enum(ISSUING_KEY_TYPES).default('P-256'),
  autoRenew: z.boolean().default(false),
});

export const deviceCertificateSchema = z.object({
  id: z.string(),
  issuerId: z.string(),
  serial: z.string(),
  deviceId: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  status: z.enum(['valid', 'revoked', 'expired']),
  revocationReason: z.string().nullable(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
});

export const deviceCertQuery = z.object({
  deviceId: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters')
    .optional(),
  issuerId: z.uuid().optional(),
  status: z.enum(['valid', 'revoked']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const revokeSchema = z.object({
  reason: z.enum(REVOCATION_REASON_NAMES).default('unspecified'),
});

/** Manual issuance: the device ID comes from the CSR's key, never from the caller. */
export const issueSchema = z.object({
  csr: z
    .string()
    .min(1)
    .max(16 * 1024)
    .describe('PKCS#10 request: PEM, or base64 of the DER'),
  lifetime: lifetimeSchema,
  acceptedKeyTypes: z.array(z.enum(DEVICE_KEY_TYPES)).min(1).default(['P-256']),
});

export const signingKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  algorithm: z.enum(SIGNING_KEY_TYPES),
  type: z.enum(['ecdsa', 'rsa']),
  size: z.number().int(),
  backend: z.enum(['software', 'pkcs11']),
  imported: z.boolean(),
  createdAt: z.string(),
});

export const newSigningKeySchema = z.object({
  name: z.string().min(1).max(64),
  algorithm: z.enum(SIGNING_KEY_TYPES).default('P-256'),
});

export const importSigningKeySchema = z.object({
  name: z.string().min(1).max(64),
  privateKeyPem: z
    .string()
    .min(1)
    .max(16 * 1024),
});
