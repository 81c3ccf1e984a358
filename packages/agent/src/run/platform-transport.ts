import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import tls from 'node:tls';
import { isIP } from 'node:net';
import { checkChainToRoot } from './chain-fns.js';
import { PlatformUnreachableError, PlatformUntrustedError } from './run-errors.js';

/** Largest answer the agent reads (device API answers are small JSON). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface PlatformResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * An answer whose body has not been read: it arrives as the reader iterates `body` (with
 * backpressure: the socket is not read faster than the reader takes the bytes). A reader that
 * does not want the body calls `discard()`. A connection lost mid-body makes the iteration throw.
 */
export interface PlatformStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: AsyncIterable<Buffer>;
  discard(): void;
}

export interface PlatformRequest {
  method: 'GET' | 'POST';
  /** Path and query on the platform, e.g. `/device/v1/status`. */
  path: string;
  headers?: Record<string, string>;
  /** Exact bytes to send (a proof signs them). */
  body?: Buffer;
}

export interface PlatformTransport {
  /** Host name the proofs are bound to: the platform URL's host, lower case, without port. */
  readonly host: string;
  /** A request whose answer is read whole (JSON answers, at most 1 MiB). */
  request(req: PlatformRequest, opts?: { timeUnknown?: boolean }): Promise<PlatformResponse>;
  /** A request whose answer body is handed over unread, for images of any size. */
  stream(req: PlatformRequest, opts?: { timeUnknown?: boolean }): Promise<PlatformStream>;
}

/**
 * HTTPS to the platform that trusts exactly the pinned instance root. The agent makes the TLS
 * connection itself, checks the server's chain against the pinned root with its own time
 * (chain-fns.ts), and only then sends the request: nothing, not even the path, reaches a server
 * that cannot show a chain to the root. One connection per request: check-ins are rare, and a
 * fresh handshake re-checks the server each time.
 */
export function createPlatformTransport(opts: {
  platformUrl: string;
  rootCaFile: string;
  rootPem: string;
  now: () => Date;
  timeoutMs?: number;
}): PlatformTransport {
  const url = new URL(opts.platformUrl);
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const bareHost = host.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let root: X509Certificate;
  try {
    root = new X509Certificate(opts.rootPem);
  } catch (err) {
    throw new PlatformUntrustedError(
      `the pinned root ${opts.rootCaFile} is not a PEM certificate: ${(err as Error).message}`,
    );
  }

  function connect(timeUnknown: boolean): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: bareHost,
        port,
        ...(isIP(bareHost) ? {} : { servername: bareHost }),
        // Verification is ours (below), against the pinned root only, before any byte is sent.
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      });
      socket.setTimeout(timeoutMs, () =>
        socket.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)),
      );
      socket.once('error', (err) =>
        reject(new PlatformUnreachableError(`cannot reach ${url.origin}: ${err.message}`)),
      );
      socket.once('secureConnect', () => {
        const peer = socket.getPeerCertificate(true);
        const ders: Buffer[] = [];
        for (let c = peer; c?.raw && ders.length < 10; c = c.issuerCertificate) {
          if (ders.some((d) => d.equals(c.raw))) break;
          ders.push(c.raw);
        }
        const [leaf, ...rest] = ders.map((d) => new X509Certificate(d));
        const check = leaf
          ? checkChainToRoot(leaf, rest, { root, host, at: opts.now(), timeUnknown })
          : { ok: false as const, detail: 'the server showed no certificate' };
        if (!check.ok) {
          socket.destroy();
          reject(
            new PlatformUntrustedError(
              `refusing ${url.origin}: ${check.detail} (pinned root: ${opts.rootCaFile})`,
            ),
          );
          return;
        }
        socket.removeAllListeners('timeout');
        resolve(socket);
      });
    });
  }

  async function stream(
    req: PlatformRequest,
    ropts: { timeUnknown?: boolean } = {},
  ): Promise<PlatformStream> {
    const socket = await connect(ropts.timeUnknown ?? false);
    const failed = (err: Error) =>
      new PlatformUnreachableError(`${url.origin}${req.path}: ${err.message}`);
    return new Promise((resolve, reject) => {
      const r = http.request(
        {
          method: req.method,
          path: req.path,
          createConnection: () => socket,
          headers: {
            host: url.host,
            accept: 'application/json, application/problem+json',
            ...(req.body ? { 'content-length': String(req.body.length) } : {}),
            ...req.headers,
            connection: 'close',
          },
          // Applies to the socket for the whole exchange: a body that stops arriving ends too.
          timeout: timeoutMs,
        },
        (res) => {
          // A connection cut mid-body must reach the reader as an error, not as a short body.
          res.on('aborted', () => res.destroy(failed(new Error('connection lost mid-body'))));
          // The reader sees errors through its iteration; this keeps one before it starts
          // (or after it stopped) from being an uncaught 'error' event.
          res.on('error', () => undefined);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: (async function* () {
              try {
                for await (const chunk of res) yield chunk as Buffer;
              } catch (err) {
                throw err instanceof PlatformUnreachableError ? err : failed(err as Error);
              }
            })(),
            discard: () => res.destroy(),
          });
        },
      );
      r.on('timeout', () => r.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
      r.on('error', (err) => reject(failed(err)));
      r.end(req.body);
    });
  }

  async function request(
    req: PlatformRequest,
    ropts: { timeUnknown?: boolean } = {},
  ): Promise<PlatformResponse> {
    const res = await stream(req, ropts);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res.body) {
      size += c.length;
      if (size > MAX_RESPONSE_BYTES) {
        res.discard();
        throw new PlatformUnreachableError(`${url.origin}${req.path}: answer too large`);
      }
      chunks.push(c);
    }
    return { status: res.status, headers: res.headers, body: Buffer.concat(chunks) };
  }

  return { host, request, stream };
}
