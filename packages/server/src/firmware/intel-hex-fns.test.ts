import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIntelHex, parseIntelHexStream } from './intel-hex-fns.js';

const LIMIT = { maxImageBytes: 1 << 20 };

/** Builds one record with a correct checksum (the way any HEX writer does). */
function rec(type: number, offset: number, data: number[] | Buffer = []): string {
  const bytes = Buffer.from([data.length, offset >> 8, offset & 0xff, type, ...data]);
  let sum = 0;
  for (const b of bytes) sum += b;
  return `:${Buffer.concat([bytes, Buffer.from([-sum & 0xff])])
    .toString('hex')
    .toUpperCase()}`;
}
const EOF = ':00000001FF';
const lines = (...l: string[]) => l.join('\n') + '\n';

describe('parseIntelHex', () => {
  it('ok/a published example record, then EOF', () => {
    // The classic example record from the format's description (checksum 0x40).
    const r = parseIntelHex(lines(':10010000214601360121470136007EFE09D2190140', EOF), LIMIT);
    expect(r).toMatchObject({ ok: true });
    if (!r.ok) return;
    expect(r.image.baseAddress).toBe(0x100);
    expect(r.image.data.toString('hex')).toBe('214601360121470136007efe09d21901');
    expect(r.image.segments).toEqual([{ address: 0x100, length: 16 }]);
    expect(r.image.start).toBeUndefined();
  });

  it('ok/CRLF endings, lower-case digits, blank lines and trailing whitespace', () => {
    const text = `${rec(0, 0, [1, 2, 3]).toLowerCase()}\r\n\r\n${rec(0, 3, [4])}  \r\n${EOF}\r\n\r\n \t\r\n`;
    const r = parseIntelHex(text, LIMIT);
    expect(r.ok && r.image.data.toString('hex')).toBe('01020304');
  });

  it('ok/gaps are filled with 0xFF and the defined runs are listed', () => {
    const r = parseIntelHex(lines(rec(0, 0x10, [0xaa, 0xbb]), rec(0, 0x14, [0xcc]), EOF), LIMIT);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.image.baseAddress).toBe(0x10);
    expect(r.image.data.toString('hex')).toBe('aabbffffcc');
    expect(r.image.segments).toEqual([
      { address: 0x10, length: 2 },
      { address: 0x14, length: 1 },
    ]);
  });

  it('ok/records out of order make the same image, adjacent runs merge', () => {
    const a = rec(0, 0, [1, 2]);
    const b = rec(0, 2, [3, 4]);
    const r1 = parseIntelHex(lines(a, b, EOF), LIMIT);
    const r2 = parseIntelHex(lines(b, a, EOF), LIMIT);
    expect(r1.ok && r2.ok).toBe(true);
    if (!r1.ok || !r2.ok) return;
    expect(r2.image.data).toEqual(r1.image.data);
    expect(r2.image.segments).toEqual([{ address: 0, length: 4 }]);
  });

  it('ok/extended linear address (04) and start linear address (05)', () => {
    const r = parseIntelHex(
      lines(rec(4, 0, [0x08, 0x00]), rec(0, 0x0100, [9]), rec(5, 0, [0x08, 0, 1, 0x23]), EOF),
      LIMIT,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.image.baseAddress).toBe(0x08000100);
    expect(r.image.start).toEqual({ type: 'linear', eip: 0x08000123 });
  });

  it('ok/extended segment address (02) and start segment address (03)', () => {
    const r = parseIntelHex(
      lines(rec(2, 0, [0x12, 0x34]), rec(0, 0x0010, [7]), rec(3, 0, [0x12, 0x34, 0, 5]), EOF),
      LIMIT,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.image.baseAddress).toBe(0x12340 + 0x10);
    expect(r.image.start).toEqual({ type: 'segment', cs: 0x1234, ip: 5 });
  });

  it('ok/in linear mode a record may cross a 64 KiB boundary', () => {
    const r = parseIntelHex(lines(rec(0, 0xfffe, [1, 2, 3, 4]), EOF), LIMIT);
    expect(r.ok && r.image.segments).toEqual([{ address: 0xfffe, length: 4 }]);
  });

  it('ok/an iterable of lines and an arbitrarily split stream give the same image', async () => {
    const text = lines(
      rec(4, 0, [0, 1]),
      rec(0, 0, [...randomBytes(32)]),
      rec(0, 0x40, [...randomBytes(16)]),
      EOF,
    ).replace(/\n/g, '\r\n');
    const whole = parseIntelHex(text, LIMIT);
    expect(whole.ok).toBe(true);
    const byLine = parseIntelHex(text.split('\r\n'), LIMIT);
    expect(byLine).toEqual(whole);
    for (const size of [1, 7, 64]) {
      const pieces = async function* () {
        for (let i = 0; i < text.length; i += size) yield Buffer.from(text.slice(i, i + size));
      };
      expect(await parseIntelHexStream(pieces(), LIMIT)).toEqual(whole);
    }
  });

  it('ok/a last line without newline', () => {
    const r = parseIntelHex(`${rec(0, 0, [1])}\n${EOF}`, LIMIT);
    expect(r.ok).toBe(true);
  });

  const cases: Array<{ name: string; text: string; line: number; reason: RegExp; limit?: number }> =
    [
      {
        name: 'no start code',
        text: lines(rec(0, 0, [1]).slice(1), EOF),
        line: 1,
        reason: /must start with ':'/,
      },
      {
        name: 'leading whitespace',
        text: lines(` ${rec(0, 0, [1])}`, EOF),
        line: 1,
        reason: /must start with ':'/,
      },
      {
        name: 'a non-hex digit',
        text: lines(rec(0, 0, [1]), ':0100000G01FE', EOF),
        line: 2,
        reason: /"G" at column 9 is not a hex digit/,
      },
      {
        name: 'odd number of digits',
        text: lines(rec(0, 0, [1]) + '0', EOF),
        line: 1,
        reason: /odd number/,
      },
      { name: 'too short', text: lines(':00000001', EOF), line: 1, reason: /too short/ },
      {
        name: 'byte count larger than the data',
        text: lines(':0200000001FD', EOF),
        line: 1,
        reason: /byte count says 2 data bytes but the record holds 1/,
      },
      {
        name: 'byte count smaller than the data',
        text: lines(':01000000010200', EOF),
        line: 1,
        reason: /byte count says 1 data bytes but the record holds 2/,
      },
      {
        name: 'bad checksum',
        text: lines(rec(0, 0, [1]), ':10010000214601360121470136007EFE09D2190141', EOF),
        line: 2,
        reason: /checksum mismatch: the record says 0x41, its bytes give 0x40/,
      },
      {
        name: 'unknown record type',
        text: lines(rec(6, 0, [1]), EOF),
        line: 1,
        reason: /unknown record type 0x06/,
      },
      {
        name: 'EOF carrying data',
        text: lines(rec(0, 0, [1]), rec(1, 0, [1])),
        line: 2,
        reason: /end-of-file record must carry 0 data bytes/,
      },
      {
        name: 'extended segment address of 3 bytes',
        text: lines(rec(2, 0, [1, 2, 3]), EOF),
        line: 1,
        reason: /extended segment address record must carry 2/,
      },
      {
        name: 'extended linear address with a non-zero address field',
        text: lines(rec(4, 1, [0, 1]), EOF),
        line: 1,
        reason: /address field 0000/,
      },
      {
        name: 'start segment address of 2 bytes',
        text: lines(rec(3, 0, [1, 2]), EOF),
        line: 1,
        reason: /start segment address record must carry 4/,
      },
      {
        name: 'start linear address of 3 bytes',
        text: lines(rec(5, 0, [1, 2, 3]), EOF),
        line: 1,
        reason: /start linear address record must carry 4/,
      },
      {
        name: 'two different start addresses',
        text: lines(rec(0, 0, [1]), rec(5, 0, [0, 0, 0, 1]), rec(5, 0, [0, 0, 0, 2]), EOF),
        line: 3,
        reason: /second, different start address/,
      },
      {
        name: 'overlapping data',
        text: lines(rec(0, 0x10, [1, 2, 3, 4]), rec(0, 0x20, [1]), rec(0, 0x13, [5, 6]), EOF),
        line: 3,
        reason: /data at 0x00000013 overlaps earlier data/,
      },
      {
        name: 'overlap reached through a different extended address',
        text: lines(rec(0, 0x10, [1]), rec(2, 0, [0, 1]), rec(0, 0, [2]), EOF),
        line: 3,
        reason: /overlaps/,
      },
      {
        name: 'missing EOF',
        text: lines(rec(0, 0, [1]), rec(0, 1, [2])),
        line: 2,
        reason: /missing end-of-file record/,
      },
      { name: 'empty input', text: '', line: 1, reason: /missing end-of-file record/ },
      {
        name: 'records after EOF',
        text: lines(rec(0, 0, [1]), EOF, '', rec(0, 1, [2])),
        line: 4,
        reason: /after the end-of-file record/,
      },
      {
        name: 'a second EOF',
        text: lines(rec(0, 0, [1]), EOF, EOF),
        line: 3,
        reason: /after the end-of-file record/,
      },
      { name: 'no data at all', text: lines(EOF), line: 1, reason: /no data records/ },
      {
        name: 'image larger than the limit (gap included)',
        text: lines(rec(0, 0, [1]), rec(0, 0x100, [2]), rec(0, 0x1000, [3]), EOF),
        line: 3,
        limit: 0x1000,
        reason: /image would span 4097 bytes .* over the limit of 4096/,
      },
      {
        name: 'data past the 4 GiB address space',
        text: lines(rec(4, 0, [0xff, 0xff]), rec(0, 0xfffe, [1, 2, 3]), EOF),
        line: 2,
        reason: /runs past the 4 GiB address space/,
      },
      {
        name: 'data wrapping inside its 64 KiB segment',
        text: lines(rec(2, 0, [0x10, 0]), rec(0, 0xfffe, [1, 2, 3]), EOF),
        line: 2,
        reason: /past the end of its 64 KiB segment/,
      },
    ];
  for (const c of cases) {
    it(`fail/${c.name}`, async () => {
      const opts = { maxImageBytes: c.limit ?? LIMIT.maxImageBytes };
      const r = parseIntelHex(c.text, opts);
      expect(r).toMatchObject({ ok: false, line: c.line });
      if (r.ok) return;
      expect(r.reason).toMatch(c.reason);
      // The stream parser says exactly the same, even fed one character at a time.
      const pieces = async function* () {
        for (const ch of c.text) yield ch;
      };
      expect(await parseIntelHexStream(pieces(), opts)).toEqual(r);
    });
  }

  it('fail/a stream that never ends its line is cut off, not buffered', async () => {
    const good = `${rec(0, 0, [1])}\n`;
    let served = 0;
    const endless = async function* () {
      yield good;
      for (;;) {
        served++;
        yield 'A'.repeat(100);
      }
    };
    const r = await parseIntelHexStream(endless(), LIMIT);
    expect(r).toMatchObject({ ok: false, line: 2, reason: expect.stringMatching(/line longer/) });
    expect(served).toBeLessThan(20);
  });
});

describe('parseIntelHex against GNU objcopy', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-ihex-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const objcopy = (...args: string[]) => execFileSync('objcopy', args, { cwd: dir });

  it('ok/a 300 KiB image at 0x08000000 (04 and 05 records) equals the binary', async () => {
    const bin = randomBytes(300 * 1024 + 7);
    writeFileSync(path.join(dir, 'app.bin'), bin);
    objcopy(
      ...['-I', 'binary', '-O', 'ihex', '--change-addresses', '0x08000000'],
      ...['--set-start', '0x189', 'app.bin', 'app.hex'],
    );
    const text = readFileSync(path.join(dir, 'app.hex'), 'latin1');
    expect(text).toMatch(/^:02000004080[0-9A-F]{3}/m);
    const r = await parseIntelHexStream(
      createReadStream(path.join(dir, 'app.hex'), { highWaterMark: 1000 }),
      LIMIT,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.image.baseAddress).toBe(0x08000000);
    expect(r.image.data.equals(bin)).toBe(true);
    expect(r.image.segments).toEqual([{ address: 0x08000000, length: bin.length }]);
    // objcopy moves the entry point along with the sections.
    expect(r.image.start).toEqual({ type: 'linear', eip: 0x08000000 + 0x189 });
  });

  it('ok/segment addressing (02, 03) below 1 MiB', () => {
    const bin = randomBytes(5000);
    writeFileSync(path.join(dir, 'low.bin'), bin);
    objcopy(
      ...['-I', 'binary', '-O', 'ihex', '--change-addresses', '0x1FFC0'],
      ...['--set-start', '0x1234', 'low.bin', 'low.hex'],
    );
    const text = readFileSync(path.join(dir, 'low.hex'), 'latin1');
    expect(text).toMatch(/^:02000002/m);
    const r = parseIntelHex(text, LIMIT);
    expect(r.ok).toBe(true);
    if (!r.ok || r.image.start?.type !== 'segment') throw new Error('expected a segment start');
    expect(r.image.baseAddress).toBe(0x1ffc0);
    expect(r.image.data.equals(bin)).toBe(true);
    expect(r.image.start.cs * 16 + r.image.start.ip).toBe(0x1ffc0 + 0x1234);
  });

  it('ok/two pieces with a gap: same bytes as objcopy -O binary --gap-fill 0xff', () => {
    writeFileSync(path.join(dir, 'a.bin'), randomBytes(4000));
    writeFileSync(path.join(dir, 'b.bin'), randomBytes(1234));
    objcopy('-I', 'binary', '-O', 'ihex', '--change-addresses', '0x08000000', 'a.bin', 'a.hex');
    objcopy('-I', 'binary', '-O', 'ihex', '--change-addresses', '0x08010100', 'b.bin', 'b.hex');
    // Drop the first file's start address and EOF so the two concatenate into one file.
    const a = readFileSync(path.join(dir, 'a.hex'), 'latin1')
      .replace(/^:04000005[0-9A-F]{10}\r?\n/m, '')
      .replace(/^:00000001FF\r?\n/m, '');
    writeFileSync(path.join(dir, 'ab.hex'), a + readFileSync(path.join(dir, 'b.hex'), 'latin1'));
    objcopy('-I', 'ihex', '-O', 'binary', '--gap-fill', '0xff', 'ab.hex', 'ab.bin');
    const r = parseIntelHex(readFileSync(path.join(dir, 'ab.hex'), 'latin1'), LIMIT);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.image.data.equals(readFileSync(path.join(dir, 'ab.bin')))).toBe(true);
    expect(r.image.segments).toEqual([
      { address: 0x08000000, length: 4000 },
      { address: 0x08010100, length: 1234 },
    ]);
  });
});
