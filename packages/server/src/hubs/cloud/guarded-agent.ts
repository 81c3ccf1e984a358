import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { OutboundGuard } from '../../lib/outbound-guard.js';

/**
 * An HTTPS agent for a cloud's API whose every DNS lookup goes through the outbound guard:
 * the socket connects to the address the guard approved, never to a second DNS answer.
 * `ca` adds trust for an API endpoint behind a private CA (a VPC endpoint, an inspecting
 * proxy); without it the system's public roots apply.
 */
export function guardedAgent(guard: OutboundGuard, port: number, ca?: string | null): https.Agent {
  const lookup: LookupFunction = (hostname, options, callback) => {
    guard.resolve(hostname, port).then(
      ({ address, family }) => {
        if ((options as { all?: boolean }).all)
          (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(
            null,
            [{ address, family }],
          );
        else callback(null, address, family);
      },
      (err: Error) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  };
  return new https.Agent({ keepAlive: false, lookup, ...(ca ? { ca } : {}) });
}

/**
 * Node connects to an IP-literal host without a lookup, so the agent's guard never sees it:
 * such endpoints are checked here, before each piece of work.
 */
export async function checkLiteralEndpoint(guard: OutboundGuard, url: URL): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) await guard.resolve(host, Number(url.port || 443));
}
