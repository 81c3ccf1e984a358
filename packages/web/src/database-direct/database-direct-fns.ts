import {
  DEFAULT_PORTS,
  SECRET_FIELDS,
  type ConnectionInput,
  type DatabaseConnection,
  type DatabaseType,
} from './database-direct-types';

/** The form's values: text boxes hold strings, empty meaning "none" (or "keep" for secrets). */
export interface ConnectionFormValues {
  name: string;
  type: DatabaseType;
  url: string;
  database: string;
  dataSource: string;
  caCertificate: string;
  tls: boolean;
  username: string;
  password: string;
}

export function newConnectionValues(): ConnectionFormValues {
  return {
    name: '',
    type: 'postgresql',
    url: '',
    database: '',
    dataSource: '',
    caCertificate: '',
    tls: true,
    username: '',
    password: '',
  };
}

/** A connection being edited: its settings, and empty secrets (empty keeps the stored ones). */
export function connectionValues(c: DatabaseConnection): ConnectionFormValues {
  return {
    name: c.name,
    type: c.type,
    url: c.url,
    database: c.database,
    dataSource: c.dataSource ?? '',
    caCertificate: c.caCertificate ?? '',
    tls: c.tls,
    username: '',
    password: '',
  };
}

/** `postgresql://db.example.com:5432`, the example the form and its errors show. */
export const urlExample = (type: DatabaseType) => `${type}://db.example.com:${DEFAULT_PORTS[type]}`;

const SCHEMES: Record<DatabaseType, string[]> = {
  postgresql: ['postgresql', 'postgres'],
  mariadb: ['mariadb', 'mysql'],
};
// The server's host rule (lib/outbound-fns.ts HOST_PATTERN): a DNS name or an IP literal.
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

/**
 * Why a connection URL is refused, or null: only `<type>://host[:port]`, as the server's
 * parseConnectionUrl accepts. Parsed by hand because browsers differ on non-web URL schemes.
 */
export function connectionUrlError(type: DatabaseType, raw: string): string | null {
  const text = raw.trim();
  const like = `must be a URL like ${urlExample(type)}`;
  if (!text) return 'is required';
  if (text.length > 512) return 'must be at most 512 characters';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(text);
  if (!m) return like;
  if (!SCHEMES[type].includes(m[1]!.toLowerCase()))
    return `must start with ${type}:// for a ${type} connection`;
  const rest = m[2]!;
  const cut = rest.search(/[/?#]/);
  const authority = cut < 0 ? rest : rest.slice(0, cut);
  const tail = cut < 0 ? '' : rest.slice(cut);
  if (authority.includes('@'))
    return 'must not hold credentials; set username and password instead';
  if (tail !== '' && tail !== '/')
    return 'must hold only a host and a port; set the database apart';
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
  if (!hp) return like;
  const [, hostPart, port] = hp;
  const host = hostPart!.replace(/^\[|\]$/g, '');
  if (!host || !(HOST.test(host) || (hostPart!.startsWith('[') && IPV6.test(host))))
    return 'must name a host';
  if (port !== undefined && port !== '' && (Number(port) < 1 || Number(port) > 65535))
    return 'must have a port between 1 and 65535';
  return null;
}

const NAME = /^[\p{L}\p{N} ._-]+$/u;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$-]*$/;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Why a CA bundle is refused before sending, or null (the server also parses each one). */
export function caCertificateError(pem: string): string | null {
  if (!pem.trim()) return null;
  if (pem.length > 64 * 1024) return 'must be at most 64 KiB';
  const labels = [...pem.matchAll(PEM_BLOCK)].map((m) => m[1]!);
  if (/PRIVATE KEY/.test(pem))
    return 'holds a private key: paste only the CA certificates, and keep the key secret';
  const certs = labels.filter((l) => l === 'CERTIFICATE').length;
  if (certs === 0) return 'must hold PEM certificates (-----BEGIN CERTIFICATE-----)';
  if (certs > 16) return 'may hold at most 16 certificates';
  return null;
}

/**
 * What the server would refuse (connectionInputSchema and the service's check that both
 * credentials are set), keyed by the API's field names. `editing` holds the connection being
 * changed: its credentials are kept when their boxes are left empty.
 */
export function connectionErrors(
  v: ConnectionFormValues,
  editing?: Pick<DatabaseConnection, 'secrets'>,
): Record<string, string> {
  const errors: Record<string, string> = {};
  const name = v.name.trim();
  if (!name) errors.name = 'Enter a name';
  else if (name.length > 64) errors.name = 'Use at most 64 characters';
  else if (!NAME.test(name))
    errors.name = 'Use letters, digits, spaces, dots, underscores and hyphens';
  const url = connectionUrlError(v.type, v.url);
  if (url) errors.url = `The URL ${url}`;
  const db = v.database.trim();
  if (!db) errors.database = 'Enter the database the tables go into';
  else if (db.length > 63) errors.database = 'Use at most 63 characters';
  else if (!IDENTIFIER.test(db))
    errors.database =
      'Start with a letter or underscore; then letters, digits, underscore, dollar and hyphen';
  if (v.dataSource.trim().length > 128) errors.dataSource = 'Use at most 128 characters';
  const ca = caCertificateError(v.caCertificate);
  if (ca) errors.caCertificate = `The CA certificate ${ca}`;
  for (const f of SECRET_FIELDS) {
    const typed = v[f];
    if (typed.length > 1024) errors[f] = 'Use at most 1024 characters';
    else if (!typed && !editing?.secrets[f].set)
      errors[f] = f === 'username' ? 'Enter the database login' : "Enter the login's password";
  }
  return errors;
}

/**
 * The request body. A secret box left empty is left out, so the server keeps the stored value;
 * empty optional texts are sent as null (none).
 */
export function connectionInputOf(v: ConnectionFormValues): ConnectionInput {
  const body: ConnectionInput = {
    name: v.name.trim(),
    type: v.type,
    url: v.url.trim(),
    database: v.database.trim(),
    dataSource: v.dataSource.trim() || null,
    caCertificate: v.caCertificate.trim() ? v.caCertificate.trim() + '\n' : null,
    tls: v.tls,
  };
  for (const f of SECRET_FIELDS) if (v[f] !== '') body[f] = v[f];
  return body;
}

/** "telemetry-jwt-public.pem" for connection "Telemetry". */
export function publicKeyFileName(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${slug || 'connection'}-jwt-public.pem`;
}

/** "set" / "not set" for the list's credentials column. */
export function credentialsState(c: Pick<DatabaseConnection, 'secrets'>): string {
  const set = SECRET_FIELDS.filter((f) => c.secrets[f].set);
  if (set.length === SECRET_FIELDS.length) return 'set';
  if (set.length === 0) return 'not set';
  return `${set.join(', ')} set only`;
}
