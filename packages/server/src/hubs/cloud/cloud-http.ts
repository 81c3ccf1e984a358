import https from 'node:https';
import type { OutboundGuard } from '../../lib/outbound-guard.js';
import { CredentialsRejectedError } from './cloud-types.js';
import { checkLiteralEndpoint } from './guarded-agent.js';

export interface CloudResponse {
  status: number;
  body: unknown;
  text: string;
}

/** A call a cloud REST API refused; the message carries its status and its own words. */
export class CloudCallError extends Error {
  constructor(
    readonly status: number,
    what: string,
    text: string,
  ) {
    super(`${what}: HTTP ${status}${text ? ` ${text.slice(0, 300)}` : ''}`);
    this.name = 'CloudCallError';
  }
}

/**
 * One JSON request to a cloud's REST API over the given (guarded) agent. 401 and 403 become
 * CredentialsRejectedError; other non-2xx statuses a CloudCallError unless `accept` lists them.
 */
export async function cloudRequest(
  guard: OutboundGuard,
  agent: https.Agent,
  url: URL,
  opts: {
    method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';
    headers: Record<string, string>;
    body?: unknown;
    what: string;
    accept?: number[];
    timeoutMs?: number;
  },
): Promise<CloudResponse> {
  await checkLiteralEndpoint(guard, url);
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: opts.method,
        agent,
        headers: {
          accept: 'application/json',
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': String(payload.length) }
            : {}),
          ...opts.headers,
        },
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          if (status === 401 || status === 403)
            return reject(
              new CredentialsRejectedError(
                `${opts.what}: HTTP ${status} ${text.slice(0, 200)}`.trim(),
              ),
            );
          if ((status < 200 || status >= 300) && !opts.accept?.includes(status))
            return reject(new CloudCallError(status, opts.what, text));
          resolve({ status, body, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${opts.what}: no answer in time`)));
    req.on('error', (err) => reject(new Error(`${opts.what}: ${err.message}`)));
    req.end(payload);
  });
}
