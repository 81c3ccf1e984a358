import { describe, expect, it } from 'vitest';
import { PROVISIONING_CONFIG_OFFSET } from '@trustlink/protocol';
import { checkImages, checkSigningKey, flashLayout, type ImageFacts } from './provisioning-fns.js';

const esp = (name: string, size: number): ImageFacts => ({ name, format: 'esp32-sbv2', size });
const images = {
  bootloader: esp('boot', 20_000),
  partitionTable: { name: 'pt', format: 'raw', size: 3072 },
  ief: esp('ief', 900_000),
};
const rsa = { name: 'Release RSA', algorithm: 'RSA-3072' };
const p256 = { name: 'Release P-256', algorithm: 'P-256' };

describe('provisioning checks', () => {
  it('ok/ESP32 layout: bootloader at 0x1000, table 0x8000, config 0xD000, app 0x10000', () => {
    expect(flashLayout('esp32', PROVISIONING_CONFIG_OFFSET)).toEqual([
      { part: 'bootloader', address: 0x1000 },
      { part: 'partition-table', address: 0x8000 },
      { part: 'config', address: 0xd000 },
      { part: 'ief', address: 0x10000 },
    ]);
    expect(flashLayout('esp32-s3', PROVISIONING_CONFIG_OFFSET)[0]).toEqual({
      part: 'bootloader',
      address: 0,
    });
  });

  it('ok/images that fit', () => {
    expect(checkImages('esp32', images)).toEqual({ ok: true });
    // 0x8000 bytes of room on ESP32-C3: a 27 KiB bootloader fits there once signed.
    expect(checkImages('esp32-c3', { ...images, bootloader: esp('b', 27 * 1024) })).toEqual({
      ok: true,
    });
  });

  it.each([
    [
      'fail/raw bootloader',
      { bootloader: { name: 'b', format: 'raw', size: 10 } },
      'bootloaderFirmwareId',
    ],
    [
      'fail/CMS bundle as IEF',
      { ief: { name: 'i', format: 'linux-bundle-cms', size: 10 } },
      'iefFirmwareId',
    ],
    [
      'fail/partition table as ESP32 image',
      { partitionTable: esp('p', 100) },
      'partitionTableFirmwareId',
    ],
    [
      'fail/bootloader too large for ESP32 once signed',
      { bootloader: esp('b', 0x7000 - 100) },
      'bootloaderFirmwareId',
    ],
    [
      'fail/partition table over 0xC00',
      { partitionTable: { name: 'p', format: 'raw', size: 0xc01 } },
      'partitionTableFirmwareId',
    ],
    ['fail/IEF over 16 MiB', { ief: esp('i', 16 * 1024 * 1024) }, 'iefFirmwareId'],
  ])('%s', (_n, change, field) => {
    const r = checkImages('esp32', { ...images, ...change });
    expect(r).toMatchObject({ ok: false, field });
  });

  it.each([
    ['ok/development without a key flashes unsigned', 'esp32', 'development', undefined, true],
    ['ok/release on ESP32 with RSA-3072', 'esp32', 'release', rsa, true],
    ['ok/ESP32-C6 verifies P-256', 'esp32-c6', 'release', p256, true],
    ['fail/release without a key', 'esp32', 'release', undefined, false],
    ['fail/ESP32-S3 does not verify P-256', 'esp32-s3', 'development', p256, false],
  ] as const)('%s', (_n, type, kind, key, ok) => {
    expect(checkSigningKey(type, kind, 'Line 1', key).ok).toBe(ok);
  });

  it('fail/the release refusal says what to do', () => {
    const r = checkSigningKey('esp32', 'release', 'Line 1', undefined);
    expect(r).toMatchObject({ reason: expect.stringMatching(/batch "Line 1" has no signing key/) });
  });
});
