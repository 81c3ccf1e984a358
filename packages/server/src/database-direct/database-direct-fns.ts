import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { toBase64url, fromBase64url } from '@trustlink/protocol';
import { HOST_PATTERN } from '../lib/outbound-fns.js';
import { DEFAULT_PORTS, type DatabaseDirectType } from './database-direct-types.js';

export type Check<T = object> = ({ ok: true } & T) | { ok: false; reason: string };

/**
 * The host and port of a connection URL. Only `<type>://host[:port]` is accepted: credentials
 * belong in the write-only fields (a URL is shown to contributors), and a path or query could
 * carry driver options that bypass the checks made here.
 */
export function parseConnectionUrl(
  type: DatabaseDirectType,
  text: string,
): Check<{ host: string; port: number }> {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return {
      ok: false,
      reason: `must be a URL like ${type}://db.example.com:${DEFAULT_PORTS[type]}`,
    };
  }
  const schemes = type === 'postgresql' ? ['postgresql:', 'postgres:'] : ['mariadb:', 'mysql:'];
  if (!schemes.includes(u.protocol))
    return { ok: false, reason: `must start with ${type}:// for a ${type} connection` };
  if (u.username || u.password)
    return { ok: false, reason: 'must not hold credentials; set username and password instead' };
  if ((u.pathname && u.pathname !== '/') || u.search || u.hash)
    return { ok: false, reason: 'must hold only a host and a port; set the database apart' };
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host || !(HOST_PATTERN.test(host) || isIP(host)))
    return { ok: false, reason: 'must name a host' };
  const port = u.port ? Number(u.port) : DEFAULT_PORTS[type];
  return { ok: true, host, port };
}

/** A database endpoint as far as "is it the platform's own" goes. */
export interface DatabaseEndpoint {
  addresses: string[];
  port: number;
  database: string;
  username?: string;
}

const unmap = (a: string) => /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a)?.[1] ?? a;

/**
 * Whether a target is the platform's own database: the same server (an address and the port
 * in common) and either the same database or the platform's own login, which would carry the
 * platform's rights into its own data. Another database on the same server, reached with a
 * login of its own, is the user's business.
 */
export function ownDatabaseCheck(
  target: DatabaseEndpoint,
  platform: DatabaseEndpoint | undefined,
): Check {
  if (!platform) return { ok: true };
  const mine = new Set(platform.addresses.map(unmap));
  const sameServer =
    target.port === platform.port && target.addresses.some((a) => mine.has(unmap(a)));
  if (!sameServer) return { ok: true };
  if (target.database === platform.database)
    return { ok: false, reason: "that is the platform's own database" };
  if (platform.username && target.username === platform.username)
    return { ok: false, reason: "that server would be reached with the platform's own login" };
  return { ok: true };
}

/**
 * Table names of collections: lower-case letters, digits and underscore, starting with a
 * letter. They are quoted by the driver as identifiers as well; the pattern alone keeps
 * every SQL keyword trick and schema-qualified name out.
 */
export const COLLECTION_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/** Claims of a database-direct JWT. */
export interface DeviceJwtClaims {
  /** The device ID. */
  sub: string;
  /** The connection id. */
  aud: string;
  /** The instance. */
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
}

/** The header and payload of a JWT to sign, and the signing input. */
export function jwtSigningInput(kid: string, claims: DeviceJwtClaims): string {
  const header = { alg: 'ES256', typ: 'JWT', kid };
  const enc = (o: object) => toBase64url(Buffer.from(JSON.stringify(o)));
  return `${enc(header)}.${enc(claims)}`;
}

/** A compact JWT from its signing input and a raw (r||s) P-256 signature. */
export const compactJwt = (input: string, rawSignature: Buffer) =>
  `${input}.${toBase64url(rawSignature)}`;

/** A JWT's parts as sent, before anything is trusted. */
export interface ParsedJwt {
  header: { alg?: unknown; kid?: unknown; typ?: unknown };
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** Splits and decodes a compact JWT; nothing in it is verified yet. */
export function parseJwt(token: string): Check<{ jwt: ParsedJwt }> {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p)))
    return { ok: false, reason: 'not a compact JWT' };
  try {
    const header = JSON.parse(fromBase64url(parts[0]!)!.toString('utf8')) as ParsedJwt['header'];
    const claims = JSON.parse(fromBase64url(parts[1]!)!.toString('utf8')) as Record<
      string,
      unknown
    >;
    if (typeof header !== 'object' || !header || typeof claims !== 'object' || !claims)
      return { ok: false, reason: 'not a compact JWT' };
    return {
      ok: true,
      jwt: {
        header,
        claims,
        signingInput: `${parts[0]}.${parts[1]}`,
        signature: fromBase64url(parts[2]!)!,
      },
    };
  } catch {
    return { ok: false, reason: 'not a compact JWT' };
  }
}

/**
 * Verifies a parsed JWT against one connection's public key and the expected claims. Only
 * ES256 is accepted (no `none`, no algorithm the token chooses); times allow `leewaySeconds`
 * of clock difference.
 */
export function verifyDeviceJwt(
  jwt: ParsedJwt,
  expect: {
    publicKey: KeyObject;
    kid: string;
    aud: string;
    iss: string;
    now: Date;
    leewaySeconds: number;
  },
): Check<{ claims: DeviceJwtClaims }> {
  if (jwt.header.alg !== 'ES256') return { ok: false, reason: 'alg must be ES256' };
  if (jwt.header.kid !== expect.kid)
    return { ok: false, reason: 'kid is not the key of the connection' };
  if (jwt.signature.length !== 64) return { ok: false, reason: 'bad signature length' };
  const good = verify(
    'sha256',
    Buffer.from(jwt.signingInput),
    { key: expect.publicKey, dsaEncoding: 'ieee-p1363' },
    jwt.signature,
  );
  if (!good) return { ok: false, reason: 'signature does not verify' };
  const c = jwt.claims;
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (typeof c.sub !== 'string' || !/^[0-9a-f]{64}$/.test(c.sub))
    return { ok: false, reason: 'sub is not a device ID' };
  if (c.aud !== expect.aud) return { ok: false, reason: 'aud is not this connection' };
  if (c.iss !== expect.iss) return { ok: false, reason: 'iss is not this instance' };
  if (!num(c.exp) || !num(c.nbf) || !num(c.iat))
    return { ok: false, reason: 'exp, nbf and iat are required' };
  const t = expect.now.getTime() / 1000;
  if ((c.exp as number) + expect.leewaySeconds <= t) return { ok: false, reason: 'expired' };
  if ((c.nbf as number) - expect.leewaySeconds > t) return { ok: false, reason: 'not yet valid' };
  return { ok: true, claims: c as unknown as DeviceJwtClaims };
}

/** A public key as published in a JWKS. */
export interface Jwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
  kid: string;
  alg: string;
  use: string;
}

/** A P-256 public key as a JWK for the connection's JWKS. */
export function publicJwk(spkiDer: Buffer, kid: string): Jwk {
  const jwk = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' }).export({
    format: 'jwk',
  });
  return {
    kty: String(jwk.kty),
    crv: String(jwk.crv),
    x: String(jwk.x),
    y: String(jwk.y),
    kid,
    alg: 'ES256',
    use: 'sig',
  };
}

/** A device document as accepted for a write: a JSON object, of bounded size and depth. */
export function checkDocument(
  doc: unknown,
  maxBytes: number,
  maxDepth = 16,
): Check<{ json: string }> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return { ok: false, reason: 'the document must be a JSON object' };
  const depth = (v: unknown, d: number): boolean => {
    if (d > maxDepth) return false;
    if (typeof v !== 'object' || v === null) return true;
    return Object.values(v).every((x) => depth(x, d + 1));
  };
  if (!depth(doc, 1))
    return { ok: false, reason: `the document nests deeper than ${maxDepth} levels` };
  const json = JSON.stringify(doc);
  // PostgreSQL's jsonb cannot hold U+0000; refusing it everywhere keeps the types alike.
  if (json.includes('\\u0000')) return { ok: false, reason: 'the document holds a NUL character' };
  if (Buffer.byteLength(json) > maxBytes)
    return { ok: false, reason: `the document is larger than ${maxBytes} bytes` };
  return { ok: true, json };
}
