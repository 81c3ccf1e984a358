import { describe, expect, it } from 'vitest';
import {
  bytesOf,
  findIdentityLine,
  imageStep,
  md5Hex,
  percent,
  splitLines,
  taskErrors,
  verificationFailure,
  wifiErrors,
} from './provisioning-fns';

describe('provisioning console functions', () => {
  it('ok/splits serial chunks into lines, keeping the unfinished tail', () => {
    const a = splitLines('', 'I (31) boot: ESP-IDF\r\nTRUSTLINK-IDEN');
    expect(a).toEqual({ lines: ['I (31) boot: ESP-IDF'], rest: 'TRUSTLINK-IDEN' });
    const b = splitLines(a.rest, 'TITY v1 MFkw==\r\n');
    expect(b).toEqual({ lines: ['TRUSTLINK-IDENTITY v1 MFkw=='], rest: '' });
    expect(findIdentityLine([...a.lines, ...b.lines])).toBe('TRUSTLINK-IDENTITY v1 MFkw==');
    expect(findIdentityLine(['boot: TRUSTLINK-IDENTITY v1 x'])).toBeUndefined();
  });

  it('ok/bytes, percentages and steps', () => {
    expect([...bytesOf('AAH/')]).toEqual([0, 1, 255]);
    expect(percent(512, 1024)).toBe(50);
    expect(percent(2000, 1024)).toBe(100);
    expect(percent(0, 0)).toBe(0);
    expect(
      imageStep({
        part: 'bootloader',
        name: 'Boot',
        address: 0x1000,
        size: 10,
        sha256: '',
        signed: true,
        data: '',
      }),
    ).toBe('Boot (bootloader, 10 bytes, signed) at 0x1000');
  });

  it.each([
    ['ok/open network', { ssid: 'Guest', password: '' }, {}],
    ['ok/WPA2', { ssid: 'Factory', password: '12345678' }, {}],
    ['fail/no SSID', { ssid: '', password: '' }, { ssid: 'Enter the Wi-Fi network name' }],
    [
      'fail/SSID over 32 bytes',
      { ssid: 'é'.repeat(17), password: '' },
      { ssid: 'At most 32 bytes' },
    ],
    [
      'fail/short password',
      { ssid: 'x', password: 'short' },
      { password: expect.stringMatching(/8 to 63/) },
    ],
  ])('%s', (_n, v, errors) => {
    expect(wifiErrors(v)).toEqual(errors);
  });

  it('fail/an empty task form names every field', () => {
    expect(
      Object.keys(
        taskErrors({
          name: ' ',
          deviceType: '',
          bootloaderKind: '',
          bootloaderFirmwareId: '',
          partitionTableFirmwareId: '',
          iefFirmwareId: '',
          batchId: '',
        }),
      ),
    ).toEqual([
      'name',
      'deviceType',
      'bootloaderKind',
      'bootloaderFirmwareId',
      'partitionTableFirmwareId',
      'iefFirmwareId',
      'batchId',
    ]);
  });

  it('ok/MD5 as the chip answers it: RFC 1321 test vectors, lower-case hex', () => {
    const enc = (t: string) => new TextEncoder().encode(t);
    expect(md5Hex(enc(''))).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(md5Hex(enc('abc'))).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(md5Hex(enc('message digest'))).toBe('f96b697d7cb7938d525a2f31aaf161d0');
    // Past one 64-byte block, as every image is.
    expect(md5Hex(enc('1234567890'.repeat(8)))).toBe('57edf4a22be3c955ac49da2e2107b67a');
  });

  it('ok/an MD5 mismatch names the image and address; fail/other errors are left as they are', () => {
    const img = { name: 'Partitions', address: 0x8000 };
    const mismatch = new Error('MD5 of file does not match data in flash!');
    expect(verificationFailure(mismatch, img)).toMatch(
      /^flash verification failed: the device does not hold Partitions at 0x8000 as written/,
    );
    expect(verificationFailure(mismatch, undefined)).toMatch(/does not hold an image as written/);
    expect(verificationFailure(new Error('Failed to connect with the device'), img)).toBe(
      undefined,
    );
  });
});
