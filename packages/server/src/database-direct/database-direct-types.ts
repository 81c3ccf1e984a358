import { X509Certificate } from 'node:crypto';
import { z } from 'zod';

/**
 * Database types devices can write to. PostgreSQL and MariaDB cannot verify a JWT, so the
 * platform's data endpoint verifies it and writes for the device. A hosted data API that
 * verifies our JWKS itself would be a further type whose `url` devices call directly.
 */
export const DATABASE_DIRECT_TYPES = ['postgresql', 'mariadb'] as const;
export type DatabaseDirectType = (typeof DATABASE_DIRECT_TYPES)[number];

/** The default port of each type, when the URL names none. */
export const DEFAULT_PORTS: Record<DatabaseDirectType, number> = {
  postgresql: 5432,
  mariadb: 3306,
};

/** What the API shows in place of a secret that is set. Sent back, it means "keep it". */
export const OBSCURED = '********';

const name = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(64, 'must be at most 64 characters')
  .regex(/^[\p{L}\p{N} ._-]+$/u, 'may hold letters, digits, spaces, dot, underscore and hyphen');

/** A database, role or data-source name: plain identifiers only (they reach the driver). */
const identifier = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(63, 'must be at most 63 characters')
  .regex(/^[A-Za-z_][A-Za-z0-9_$-]*$/, 'may hold letters, digits, underscore, dollar and hyphen');

/** One or more PEM certificates (a CA bundle), each of which must parse; never a private key. */
const pemCertificates = z
  .string()
  .max(64 * 1024)
  .superRefine((pem, ctx) => {
    if (/PRIVATE KEY/.test(pem)) {
      ctx.addIssue({ code: 'custom', message: 'must not hold a private key' });
      return;
    }
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (!blocks?.length) {
      ctx.addIssue({ code: 'custom', message: 'must hold PEM certificates' });
      return;
    }
    if (blocks.length > 16) ctx.addIssue({ code: 'custom', message: 'at most 16 certificates' });
    for (const b of blocks) {
      try {
        new X509Certificate(b);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'holds a certificate that does not parse' });
        return;
      }
    }
  });

/** A write-only value: omitted (or OBSCURED) on update keeps the stored one. */
const secret = z.string().min(1).max(1024).optional();

/** What administrators send to create or replace a connection. */
export const connectionInputSchema = z
  .object({
    name,
    type: z.enum(DATABASE_DIRECT_TYPES),
    /** `postgresql://host[:port]` or `mariadb://host[:port]`: no credentials, path or query. */
    url: z.string().trim().min(1).max(512),
    database: identifier,
    dataSource: z.string().trim().min(1).max(128).nullable().default(null),
    caCertificate: pemCertificates.nullable().default(null),
    /** Connect over verified TLS (default). Off only for a database on a trusted network. */
    tls: z.boolean().default(true),
    username: secret,
    password: secret,
  })
  .strict();
export type ConnectionInput = z.infer<typeof connectionInputSchema>;

/** The write-only fields; sealed under the master key, never returned. */
export const SECRET_FIELDS = ['username', 'password'] as const;
export type ConnectionSecrets = Partial<Record<(typeof SECRET_FIELDS)[number], string>>;

/** A connection as stored, without its secrets. */
export interface ConnectionRecord {
  id: string;
  name: string;
  type: DatabaseDirectType;
  url: string;
  database: string;
  dataSource: string | null;
  caCertificate: string | null;
  tls: boolean;
  keyId: string;
  createdAt: string;
  updatedAt: string;
}

/** A connection as the API shows it: secrets replaced by whether they are set. */
export const connectionSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(DATABASE_DIRECT_TYPES),
  url: z.string(),
  database: z.string(),
  dataSource: z.string().nullable(),
  caCertificate: z.string().nullable(),
  tls: z.boolean(),
  secrets: z.object({
    username: z.object({ set: z.boolean() }),
    password: z.object({ set: z.boolean() }),
  }),
  /** The JWT signing key: its key-store id (the JWT `kid`) and public key. */
  keyId: z.string(),
  publicKeyPem: z.string(),
  /** Where a database service fetches the public keys (JWKS), relative to the device API. */
  jwksPath: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Connection = z.infer<typeof connectionSchema>;
