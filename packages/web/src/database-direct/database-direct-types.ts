/**
 * What the database direct API returns and takes
 * (packages/server/src/database-direct/database-direct-types.ts).
 */

export const DATABASE_TYPES = ['postgresql', 'mariadb'] as const;
export type DatabaseType = (typeof DATABASE_TYPES)[number];

export const DATABASE_TYPE_LABELS: Record<DatabaseType, string> = {
  postgresql: 'PostgreSQL',
  mariadb: 'MariaDB',
};

/** The port a URL without one means, as the server reads it. */
export const DEFAULT_PORTS: Record<DatabaseType, number> = { postgresql: 5432, mariadb: 3306 };

/** The write-only fields: never returned, only whether they are set. */
export const SECRET_FIELDS = ['username', 'password'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

/** A connection as the API shows it, to every signed-in user. */
export interface DatabaseConnection {
  id: string;
  name: string;
  type: DatabaseType;
  url: string;
  database: string;
  dataSource: string | null;
  caCertificate: string | null;
  tls: boolean;
  secrets: Record<SecretField, { set: boolean }>;
  keyId: string;
  publicKeyPem: string;
  /** The public JWKS on the device port (no sign-in). */
  jwksPath: string;
  createdAt: string;
  updatedAt: string;
}

/** What administrators send to create or replace a connection. */
export interface ConnectionInput {
  name: string;
  type: DatabaseType;
  url: string;
  database: string;
  dataSource: string | null;
  caCertificate: string | null;
  tls: boolean;
  username?: string;
  password?: string;
}
