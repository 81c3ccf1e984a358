import { describe, expect, it } from 'vitest';
import {
  bytesOf,
  findIdentityLine,
  imageStep,
  percent,
  splitLines,
  taskErrors,
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
});
