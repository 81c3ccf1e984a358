import {
  encodeProvisioningConfig,
  type ProvisioningConfig,
} from '../../src/provisioning/provisioning-config.js';

/** The provisioning config blob: a fixed input and its exact bytes (the format is deterministic). */
export function provisioningConfigVectors() {
  const input: ProvisioningConfig = {
    v: 1,
    deviceUrl: 'https://iot.example.com:8444',
    rootCa: Buffer.from('308201testroot').toString('base64'),
    instanceId: '7d0f5a52-6a39-4a8e-9f0e-3c1d2b4a5e6f',
    batchId: 'b1c2d3e4-0000-4000-8000-000000000001',
    bootloader: 'release',
    wifi: { ssid: 'Factory-2.4G', password: 'correct horse battery' },
  };
  const blob = encodeProvisioningConfig(input);
  return {
    description:
      'encodeProvisioningConfig(input) gives blobBase64 exactly (docs/provisioning-device.md)',
    input,
    blobBase64: blob.toString('base64'),
    blobHex: blob.toString('hex'),
  };
}
