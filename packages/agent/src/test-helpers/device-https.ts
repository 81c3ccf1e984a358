import https from 'node:https';
import { createConnection, createServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { DeviceApiRequest } from '../update/update-types.js';

/**
 * A device API client for tests: mutual TLS with the device certificate (or, for key stores
 * that cannot drive TLS, a bearer session in `headers`), pinned to the
 * instance root, one connection per request (so a proxy can cut one download without touching
 * the next). Answers are fetch `Response`s with a streamed body, as the agent's daemon gives.
 */
export function tlsDeviceRequest(o: {
  host: string;
  port: number;
  ca: string;
  cert?: string;
  key?: string;
  headers?: Record<string, string>;
  servername?: string;
}): DeviceApiRequest {
  return (method, path, init) =>
    new Promise<Response>((resolve, reject) => {
      const req = https.request(
        {
          method,
          host: o.host,
          port: o.port,
          path,
          servername: o.servername ?? 'localhost',
          ca: o.ca,
          ...(o.cert && o.key ? { cert: o.cert, key: o.key } : {}),
          agent: false,
          headers: { ...o.headers, ...init?.headers },
        },
        (res) => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (v === undefined) continue;
            for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
          }
          const status = res.statusCode ?? 0;
          const noBody = status === 204 || status === 304 || method === 'HEAD';
          if (noBody) res.resume();
          // A connection cut mid-body must reach the reader as an error, not a short body.
          res.on('aborted', () => res.destroy(new Error('connection cut mid-body')));
          resolve(
            new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
              status,
              headers,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(init?.body);
    });
}

/**
 * A TCP proxy in front of the device port that, once, drops a connection after forwarding
 * `cutAfter` bytes to the client: a link lost in the middle of a download. TLS passes through
 * untouched, so the device still authenticates end to end.
 */
export async function cuttingProxy(
  target: { host: string; port: number },
  cutAfter: number,
): Promise<{
  port: number;
  cuts: () => number;
  bytesToClient: () => number;
  close: () => Promise<void>;
}> {
  let cuts = 0;
  let total = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(target);
    sockets.add(client).add(upstream);
    let down = 0;
    let cutHere = false;
    let upstreamEnded = false;
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    // Both directions with backpressure, so a slow reader is not handed megabytes the proxy
    // would hold (and drop when the server closes).
    client.on('data', (c: Buffer) => {
      if (!upstream.write(c)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (c: Buffer) => {
      if (cutHere) return;
      if (cuts === 0 && down + c.length > cutAfter) {
        // Nothing after the cut point may reach the client: it must see a clean break.
        cuts++;
        cutHere = true;
        upstream.pause();
        const part = c.subarray(0, cutAfter - down);
        total += part.length;
        client.write(part, end);
        return;
      }
      down += c.length;
      total += c.length;
      if (!client.write(c)) upstream.pause();
    });
    client.on('drain', () => {
      if (!cutHere) upstream.resume();
    });
    // The server finished (it closes after each answer): pass the end on once the client has
    // everything, rather than destroying what is still buffered for it.
    upstream.on('end', () => {
      upstreamEnded = true;
      client.end();
    });
    client.on('end', () => upstream.end());
    client.on('close', end);
    upstream.on('close', () => {
      if (!upstreamEnded) end();
    });
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    cuts: () => cuts,
    bytesToClient: () => total,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
