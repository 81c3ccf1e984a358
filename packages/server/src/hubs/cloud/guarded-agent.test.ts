import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { createOutboundGuard } from '../../lib/outbound-guard.js';
import { checkLiteralEndpoint, guardedAgent } from './guarded-agent.js';

const guard = createOutboundGuard({
  allowList: '',
  databaseUrl: 'sqlite:///tmp/x.db',
  lookup: async (host) => (host === 'internal.example' ? [{ address: '10.0.0.7', family: 4 }] : []),
});

describe('cloud API connections through the outbound guard', () => {
  it('fail/a name that resolves to a private address is refused before connecting', async () => {
    const agent = guardedAgent(guard, 443);
    const err = await new Promise<Error>((resolve) => {
      https
        .get('https://internal.example/', { agent }, () => resolve(new Error('connected')))
        .on('error', resolve);
    });
    expect(err.message).toMatch(/10\.0\.0\.7 is a loopback, link-local or private address/);
  });

  it('fail/an IP-literal endpoint is checked too; a public one passes', async () => {
    await expect(checkLiteralEndpoint(guard, new URL('https://169.254.169.254/'))).rejects.toThrow(
      /link-local or private/,
    );
    await expect(
      checkLiteralEndpoint(guard, new URL('https://93.184.216.34:8443/')),
    ).resolves.toBeUndefined();
    // Names are left to the agent's lookup.
    await expect(
      checkLiteralEndpoint(guard, new URL('https://iot.eu-west-1.amazonaws.com/')),
    ).resolves.toBeUndefined();
  });
});
