import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import { BadRequestError } from '../lib/errors.js';
import { endpointNames } from '../pki/instance-pki.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as received (device API JSON): proofs sign these bytes. */
    rawBody?: Buffer;
  }
}

/**
 * JSON on the device port is read as bytes first: a Trustlink-Proof signs the raw body, so
 * the server must hash what it received, not a re-serialisation. The listener's body limit
 * (64 KiB) applies before this parser runs.
 */
export function registerRawJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const raw = body as Buffer;
    req.rawBody = raw;
    if (raw.length === 0)
      return done(new BadRequestError('the JSON body is empty; send {}'), undefined);
    try {
      done(null, JSON.parse(raw.toString('utf8')));
    } catch {
      done(new BadRequestError('the body is not valid JSON'), undefined);
    }
  });
}

/**
 * The host names this server answers to (the public name, the configured extra names, the
 * loopback names), as a proof names them: lower case, IPv6 in brackets.
 */
export function ownHostNames(publicHostname: string, extra: string): Set<string> {
  const { dns, ip } = endpointNames(publicHostname, extra);
  return new Set([
    ...dns.map((d) => d.toLowerCase()),
    ...ip.map((a) => (isIP(a) === 6 ? `[${a.toLowerCase()}]` : a)),
  ]);
}

/**
 * The host name a proof must be bound to: the request's Host, without port, but only when it
 * is one of this server's own names. A proof made for another server (relayed here) names a
 * host we do not answer to, so it is refused before its signature is even checked.
 */
export function proofHost(req: FastifyRequest, own: Set<string>): string | undefined {
  const header = req.headers.host;
  if (!header) return undefined;
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:]+)(?::\d{1,5})?$/.exec(header.trim());
  const host = m?.[1]?.toLowerCase();
  return host && own.has(host) ? host : undefined;
}
