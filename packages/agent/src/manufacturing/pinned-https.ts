import https from 'node:https';
import { PlatformUnreachableError, PlatformUntrustedError } from './registration-errors.js';

export interface JsonResponse {
  status: number;
  body: unknown;
}

/** OpenSSL verification errors: the peer is not who the pinned root vouches for. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * POSTs JSON over HTTPS trusting exactly one root (the pinned instance root): the system's CAs
 * play no part, so a server whose chain ends anywhere else is refused before anything is sent.
 */
export function postJson(
  url: URL,
  rootPem: string,
  headers: Record<string, string>,
  body: unknown,
  timeoutMs = 30_000,
): Promise<JsonResponse> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        ca: rootPem,
        timeout: timeoutMs,
        headers: {
          ...headers,
          accept: 'application/json',
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(payload)),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* keep the text: a proxy's error page, for the message */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', (err) =>
          reject(new PlatformUnreachableError(`${url.origin}: ${err.message}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code && UNTRUSTED.has(err.code))
        reject(
          new PlatformUntrustedError(
            `${url.origin} is not trusted through the pinned root (${err.code}: ${err.message}); check --root-ca or rootCaFile and the URL's host name`,
          ),
        );
      else reject(new PlatformUnreachableError(`${url.origin}: ${err.message}`));
    });
    req.end(payload);
  });
}
