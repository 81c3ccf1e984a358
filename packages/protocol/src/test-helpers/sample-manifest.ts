/** A valid manifest payload for tests to vary. */
import { type ManifestPayload } from '../manifest/manifest-payload.js';

export const sampleManifest: ManifestPayload = {
  v: 1,
  instanceId: '3f2b8c1e-6a4d-4e59-9b0a-2c7d1e5f8a90',
  deviceId: 'a'.repeat(64),
  firmwareId: '5b7e0c42-1d9a-4b36-a8f2-0e6c3d4b9a71',
  name: 'gateway-firmware',
  version: '2.4.1',
  securityVersion: 7,
  hardware: { board: 'tl-gw-2' },
  size: 1024,
  sha256: 'b'.repeat(64),
  format: 'raw',
  issuedAt: '2026-03-01T12:00:00.000Z',
  expiresAt: '2026-03-31T12:00:00.000Z',
};
