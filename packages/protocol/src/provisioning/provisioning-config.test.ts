import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readVectors } from '../test-helpers/test-keys.js';
import {
  PROVISIONING_CONFIG_MAX_BYTES,
  decodeProvisioningConfig,
  encodeProvisioningConfig,
  type ProvisioningConfig,
} from './provisioning-config.js';

const vector = readVectors<{ input: ProvisioningConfig; blobBase64: string; blobHex: string }>(
  'provisioning-config.json',
);
const reasonOf = (r: { ok: boolean; reason?: string }) => (r.ok ? 'ok' : r.reason);

describe('provisioning config blob', () => {
  it('ok/the test vector: exact bytes, header fields and the digest as documented', () => {
    const blob = encodeProvisioningConfig(vector.input);
    expect(blob.toString('base64')).toBe(vector.blobBase64);
    expect(blob.toString('hex')).toBe(vector.blobHex);
    expect(blob.subarray(0, 4).toString('latin1')).toBe('TLPC');
    expect(blob[4]).toBe(1);
    expect(blob[5]).toBe(1); // release
    const n = blob.readUInt16LE(6);
    expect(JSON.parse(blob.subarray(8, 8 + n).toString('utf8'))).toEqual(vector.input);
    const digest = createHash('sha256')
      .update(blob.subarray(0, 8 + n))
      .digest();
    expect(blob.subarray(8 + n)).toEqual(digest);
  });

  it('ok/decodes what it encodes, also followed by erased flash', () => {
    const dev = { ...vector.input, bootloader: 'development' as const };
    const blob = Buffer.concat([encodeProvisioningConfig(dev), Buffer.alloc(100, 0xff)]);
    expect(blob[5]).toBe(0);
    const r = decodeProvisioningConfig(blob);
    expect(r).toMatchObject({ ok: true, config: dev, length: blob.length - 100 });
  });

  it('ok/an open network has an empty password', () => {
    const open = { ...vector.input, wifi: { ssid: 'Guest', password: '' } };
    expect(decodeProvisioningConfig(encodeProvisioningConfig(open))).toMatchObject({ ok: true });
  });

  it.each([
    ['fail/erased sector', () => Buffer.alloc(64, 0xff), 'bad-magic'],
    ['fail/too short', () => Buffer.from('TLPC'), 'too-short'],
    [
      'fail/a flipped payload byte',
      () => {
        const b = Buffer.from(vector.blobBase64, 'base64');
        b[20]! ^= 1;
        return b;
      },
      'bad-digest',
    ],
    [
      'fail/version 2',
      () => {
        const b = Buffer.from(vector.blobBase64, 'base64');
        b[4] = 2;
        return b;
      },
      'bad-version',
    ],
    [
      'fail/torn after the header',
      () => Buffer.from(vector.blobBase64, 'base64').subarray(0, 100),
      'too-short',
    ],
  ])('%s', (_name, make, reason) => {
    expect(reasonOf(decodeProvisioningConfig(make()))).toBe(reason);
  });

  it.each([
    ['fail/a short Wi-Fi password', { wifi: { ssid: 'x', password: 'short' } }],
    ['fail/an SSID over 32 bytes', { wifi: { ssid: 'é'.repeat(17), password: '' } }],
    ['fail/plain http', { deviceUrl: 'http://iot.example.com:8444' }],
    [
      'fail/over one sector',
      { rootCa: Buffer.alloc(PROVISIONING_CONFIG_MAX_BYTES).toString('base64') },
    ],
  ])('%s is refused by the encoder', (_name, change) => {
    expect(() =>
      encodeProvisioningConfig({ ...vector.input, ...change } as ProvisioningConfig),
    ).toThrow();
  });
});
