import { describe, expect, it } from 'vitest';
import { sampleManifest } from '../test-helpers/sample-manifest.js';
import { manifestPayloadSchema } from './manifest-payload.js';

describe('manifestPayloadSchema', () => {
  it.each([
    ['ok/for one device', {}],
    ['ok/for a batch', { deviceId: undefined, batchId: 'batch-1' }],
    ['ok/no hardware constraint', { hardware: {} }],
    ['ok/time without milliseconds', { issuedAt: '2026-03-01T12:00:00Z' }],
  ])('%s', (_name, change) => {
    expect(manifestPayloadSchema.safeParse({ ...sampleManifest, ...change }).success).toBe(true);
  });

  it.each([
    ['fail/both device and batch', { batchId: 'batch-1' }],
    ['fail/neither device nor batch', { deviceId: undefined }],
    ['fail/version 2', { v: 2 }],
    ['fail/upper-case device ID', { deviceId: 'A'.repeat(64) }],
    ['fail/negative securityVersion', { securityVersion: -1 }],
    ['fail/fractional securityVersion', { securityVersion: 1.5 }],
    ['fail/securityVersion over 32 bits', { securityVersion: 2 ** 32 }],
    ['fail/digest in upper case', { sha256: 'B'.repeat(64) }],
    ['fail/negative size', { size: -1 }],
    ['fail/format with spaces', { format: 'intel hex' }],
    ['fail/hardware value not a string', { hardware: { board: 2 } }],
    ['fail/time with an offset', { expiresAt: '2026-03-31T14:00:00+02:00' }],
    ['fail/expires before issued', { expiresAt: '2026-02-01T00:00:00.000Z' }],
    ['fail/unknown field', { rollout: 'staged' }],
    ['fail/empty name', { name: '' }],
  ])('%s', (_name, change) => {
    expect(manifestPayloadSchema.safeParse({ ...sampleManifest, ...change }).success).toBe(false);
  });

  it('fail/too many hardware attributes', () => {
    const hardware = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`a${i}`, 'x']));
    expect(manifestPayloadSchema.safeParse({ ...sampleManifest, hardware }).success).toBe(false);
  });
});
