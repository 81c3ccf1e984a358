import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { parseCsr } from '../pki/csr-fns.js';
import { verifyCsrSignature } from '../pki/csr-verify.js';
import { deviceIdOf } from '../pki/device-key-fns.js';
import {
  csrForKey,
  toolClientId,
  toolReadme,
  toolZip,
  type ToolBundle,
} from './tool-credentials-fns.js';

const bundle: ToolBundle = {
  toolName: 'Node-RED',
  hubName: 'Line A',
  clientId: 'tool-node-red-0a1b2c3d',
  host: 'mqtt.example.com',
  port: 8883,
  caPem: 'CA',
  certificatePem: 'CERT',
  keyPem: 'KEY',
  exampleTopic: 'devices/+/#',
};

describe('tool credentials', () => {
  const ids: [string, string, string][] = [
    ['ok/plain name', 'Node-RED', 'tool-node-red-00000000'],
    ['ok/spaces and case', 'MQTT Explorer 2', 'tool-mqtt-explorer-2-00000000'],
    ['ok/accents fold', 'Café', 'tool-cafe-00000000'],
    ['ok/nothing usable', '...', 'tool-tool-00000000'],
  ];
  for (const [name, input, want] of ids)
    it(name, () => expect(toolClientId(input, Buffer.alloc(4))).toBe(want));

  it('ok/the CSR for a generated key is valid, with the key of the tool', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const parsed = parseCsr(csrForKey(privateKey));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(await verifyCsrSignature(parsed.csr)).toBe(true);
    expect(parsed.csr.key.deviceId).toBe(
      deviceIdOf(createPublicKey(privateKey).export({ type: 'spki', format: 'der' })),
    );
    expect(parsed.csr.subjectCommonNames).toEqual([]);
  });

  it('ok/the README names the files, the command and the Node-RED settings', () => {
    const r = toolReadme(bundle);
    expect(r).toContain(
      "mosquitto_sub -h mqtt.example.com -p 8883 --cafile ca.pem --cert client.crt --key client.key -i tool-node-red-0a1b2c3d -V mqttv311 -t 'devices/+/#' -v",
    );
    expect(r).toContain('Client ID: `tool-node-red-0a1b2c3d`');
    expect(r).toContain('Protocol: MQTT V3.1.1');
  });

  it('ok/the zip holds the five files; without a key or CA, only what exists', () => {
    const all = unzipSync(new Uint8Array(toolZip(bundle)));
    expect(Object.keys(all).sort()).toEqual(
      ['README.md', 'ca.pem', 'client-id.txt', 'client.crt', 'client.key'].sort(),
    );
    expect(strFromU8(all['client-id.txt']!)).toBe('tool-node-red-0a1b2c3d\n');
    const some = unzipSync(new Uint8Array(toolZip({ ...bundle, keyPem: undefined, caPem: '' })));
    expect(Object.keys(some).sort()).toEqual(['README.md', 'client-id.txt', 'client.crt']);
    expect(strFromU8(some['README.md']!)).toContain('--capath /etc/ssl/certs');
  });
});
