import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSasToken, sasToken } from './azure-sas-fns.js';

describe('Azure SAS tokens', () => {
  const key = Buffer.from('a shared access key of 32 bytes!').toString('base64');

  it('ok/signs the URL-encoded resource, a newline and the expiry with the decoded key', () => {
    const t = sasToken({
      resourceUri: 'myhub.azure-devices.net',
      key,
      policyName: 'registryReadWrite',
      expiry: 1_900_000_000,
    });
    const expected = createHmac('sha256', Buffer.from('a shared access key of 32 bytes!'))
      .update('myhub.azure-devices.net\n1900000000')
      .digest('base64');
    expect(t).toBe(
      `SharedAccessSignature sr=myhub.azure-devices.net&sig=${encodeURIComponent(expected)}&se=1900000000&skn=registryReadWrite`,
    );
    expect(parseSasToken(t)).toEqual({
      sr: 'myhub.azure-devices.net',
      sig: expected,
      se: 1_900_000_000,
      skn: 'registryReadWrite',
    });
  });

  it('ok/encodes a resource with a path', () => {
    const t = sasToken({ resourceUri: 'hub.example/devices/d 1', key, expiry: 1 });
    expect(t.startsWith('SharedAccessSignature sr=hub.example%2Fdevices%2Fd%201&sig=')).toBe(true);
    expect(parseSasToken(t)?.sr).toBe('hub.example/devices/d 1');
    expect(t).not.toContain('skn=');
  });

  it('err/anything else is not a token', () => {
    expect(parseSasToken('Bearer x')).toBeUndefined();
    expect(parseSasToken('SharedAccessSignature sr=a&se=1')).toBeUndefined();
  });
});
