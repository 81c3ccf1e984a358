import { createHash } from 'node:crypto';
import { constants, inflateSync } from 'node:zlib';

/**
 * An ESP32 as esptool-js sees it over a serial port, for browser tests of the console's
 * flashing: the auto-reset circuit (DTR/RTS drive EN and IO0), the ROM loader's SLIP protocol
 * (SYNC, READ_REG/WRITE_REG for chip detection and the flash ID, MEM_* to load the flasher stub,
 * CHANGE_BAUDRATE, FLASH_BEGIN/DATA/END and the compressed FLASH_DEFL_*, SPI_FLASH_MD5 over
 * what the flash holds, which the console compares with each image), a flash that records
 * every write (optionally with one byte that does not take it), and after a normal reset a boot log ending with the line the test
 * gives (the identity line of the firmware "running" on it).
 */

const SLIP_END = 0xc0;
const SLIP_ESC = 0xdb;
const FLASH_SIZE = 4 * 1024 * 1024;
/** ESP32's magic value at 0x40001000, by which esptool-js recognises the chip. */
const ESP32_MAGIC_REG = 0x40001000;
const ESP32_MAGIC = 0x00f01d83;
const SPI_BASE = 0x3ff42000;
const SPI_W0 = SPI_BASE + 0x80;
const SPI_CMD_USR = 1 << 18;
/** A 4 MB flash chip's JEDEC ID (manufacturer 0x20, capacity 0x16). */
const FLASH_ID = 0x164020;
const CHECKSUM_SEED = 0xef;

const OP = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
} as const;

export function slipEncode(packet: Buffer): Buffer {
  const out: number[] = [SLIP_END];
  for (const b of packet) {
    if (b === SLIP_END) out.push(SLIP_ESC, 0xdc);
    else if (b === SLIP_ESC) out.push(SLIP_ESC, 0xdd);
    else out.push(b);
  }
  out.push(SLIP_END);
  return Buffer.from(out);
}

export interface EmulatorOptions {
  /** What the firmware prints after a normal boot, last (the identity line, or anything). */
  bootLine: () => string;
  /** Bytes from the "device" to the host. */
  send: (bytes: Buffer) => void;
  /** After this many flash data blocks, the device is unplugged mid-write (a failure test). */
  unplugAfterBlocks?: number;
  /** Called to unplug: the port's streams fail from then on. */
  unplug?: () => void;
  /**
   * A flash address whose byte does not take the write (a worn or faulty cell): once the region
   * holding it is written, the byte there is inverted, so SPI_FLASH_MD5 over the region differs.
   */
  corruptAt?: number;
}

interface Region {
  address: number;
  compressed: boolean;
  chunks: Buffer[];
  written: number;
}

type Esp32Mode = 'running' | 'reset' | 'rom' | 'stub' | 'app' | 'unplugged';

export class Esp32RomEmulator {
  /** The flash as written (erased bytes are 0xFF). */
  readonly flash = Buffer.alloc(FLASH_SIZE, 0xff);
  /** Every region written, in order, with its bytes. */
  readonly writes: { address: number; data: Buffer }[] = [];
  /** What happened, for test failure messages. */
  readonly events: string[] = [];
  private mode: Esp32Mode = 'running';
  private dtr = false;
  private rts = false;
  private rx: number[] = [];
  private inPacket = false;
  private escape = false;
  private regs = new Map<number, number>([[ESP32_MAGIC_REG, ESP32_MAGIC]]);
  private region: Region | undefined;
  private blocks = 0;

  constructor(private readonly opts: EmulatorOptions) {}

  /** EN (reset, active low) and IO0 as the usual two-transistor auto-reset circuit drives them. */
  private get en() {
    return !(this.rts && !this.dtr);
  }

  setSignals(s: { dataTerminalReady?: boolean; requestToSend?: boolean }): void {
    if (this.mode === 'unplugged') return;
    const wasEn = this.en;
    if (typeof s.dataTerminalReady === 'boolean') this.dtr = s.dataTerminalReady;
    if (typeof s.requestToSend === 'boolean') this.rts = s.requestToSend;
    if (wasEn && !this.en) this.mode = 'reset';
    if (!wasEn && this.en) this.boot(this.dtr && !this.rts);
  }

  private boot(download: boolean): void {
    this.rx = [];
    this.inPacket = false;
    if (download) {
      this.mode = 'rom';
      this.events.push('boot: download mode');
      this.text(
        'ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n',
      );
      return;
    }
    this.mode = 'app';
    this.events.push('boot: flash');
    if (this.writes.length === 0) {
      this.text(
        'ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nflash read err, 1000\r\n',
      );
      return;
    }
    this.text(
      [
        'ets Jun  8 2016 00:22:57',
        '',
        'rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)',
        'I (29) boot: ESP-IDF v5.3 2nd stage bootloader',
        'I (112) boot: Loaded app from partition at offset 0x10000',
        'I (245) tl_ief: provisioning config found (TLPC v1)',
        'I (251) tl_ief: identity key ready',
        this.opts.bootLine(),
        'I (260) tl_ief: joining Wi-Fi',
        '',
      ].join('\r\n'),
    );
  }

  private text(s: string) {
    this.opts.send(Buffer.from(s, 'latin1'));
  }

  /** Bytes from the host. */
  receive(bytes: Buffer): void {
    if (this.mode !== 'rom' && this.mode !== 'stub') return;
    for (const b of bytes) {
      if (!this.inPacket) {
        if (b === SLIP_END) this.inPacket = true;
        continue;
      }
      if (this.escape) {
        this.rx.push(b === 0xdc ? SLIP_END : b === 0xdd ? SLIP_ESC : b);
        this.escape = false;
      } else if (b === SLIP_ESC) this.escape = true;
      else if (b === SLIP_END) {
        if (this.rx.length > 0) this.command(Buffer.from(this.rx));
        this.rx = [];
        // SLIP_END both ends a packet and may start the next.
        this.inPacket = true;
      } else this.rx.push(b);
      // A command may have unplugged the board (TypeScript keeps the narrowing from above).
      if ((this.mode as Esp32Mode) === 'unplugged') return;
    }
  }

  private reply(op: number, val = 0, data: Buffer = Buffer.alloc(0), status = 0) {
    const body = Buffer.concat([data, Buffer.from([status, status ? 0x05 : 0])]);
    const head = Buffer.alloc(8);
    head[0] = 0x01;
    head[1] = op;
    head.writeUInt16LE(body.length, 2);
    head.writeUInt32LE(val >>> 0, 4);
    this.opts.send(slipEncode(Buffer.concat([head, body])));
  }

  private writeRegion(bytes: Buffer) {
    const r = this.region!;
    bytes.copy(this.flash, r.address + r.written);
    r.written += bytes.length;
  }

  /** The bytes a region holds so far (inflated progressively, so a torn write leaves a part). */
  private flushRegion(final: boolean) {
    const r = this.region!;
    const all = Buffer.concat(r.chunks);
    const out = r.compressed
      ? inflateSync(all, final ? {} : { finishFlush: constants.Z_SYNC_FLUSH })
      : all;
    if (out.length > r.written) this.writeRegion(out.subarray(r.written));
  }

  private endRegion() {
    if (!this.region) return;
    this.flushRegion(true);
    const r = this.region;
    const bad = this.opts.corruptAt;
    if (bad !== undefined && bad >= r.address && bad < r.address + r.written) {
      this.flash[bad] = this.flash[bad]! ^ 0xff;
      this.events.push(`byte at 0x${bad.toString(16)} did not take the write`);
    }
    this.writes.push({
      address: r.address,
      data: Buffer.from(this.flash.subarray(r.address, r.address + r.written)),
    });
    this.events.push(`wrote ${r.written} bytes at 0x${r.address.toString(16)}`);
    this.region = undefined;
  }

  private command(p: Buffer) {
    if (p.length < 8 || p[0] !== 0x00) return;
    const op = p[1]!;
    const len = p.readUInt16LE(2);
    const chk = p.readUInt32LE(4);
    const data = p.subarray(8, 8 + len);
    const u32 = (i: number) => data.readUInt32LE(i);
    switch (op) {
      case OP.SYNC:
        // The ROM answers a SYNC eight times; the stub once.
        for (let i = 0; i < (this.mode === 'rom' ? 8 : 1); i++)
          this.reply(op, this.mode === 'rom' ? 0x20120707 : 0);
        return;
      case OP.READ_REG:
        return this.reply(op, this.regs.get(u32(0)) ?? 0);
      case OP.WRITE_REG: {
        const addr = u32(0);
        const value = u32(4);
        this.regs.set(addr, value);
        // A user SPI command (esptool-js reads the flash ID this way): done at once.
        if (addr === SPI_BASE && value & SPI_CMD_USR) {
          this.regs.set(SPI_BASE, 0);
          this.regs.set(SPI_W0, FLASH_ID);
        }
        return this.reply(op);
      }
      case OP.GET_SECURITY_INFO:
        // The ESP32 ROM has no such command: it answers "invalid message".
        return this.reply(0x00, 0, Buffer.alloc(0), 1);
      case OP.SPI_ATTACH:
      case OP.SPI_SET_PARAMS:
      case OP.CHANGE_BAUDRATE:
      case OP.MEM_BEGIN:
      case OP.MEM_DATA:
      case OP.ERASE_FLASH:
      case OP.ERASE_REGION:
        return this.reply(op);
      case OP.MEM_END:
        this.reply(op);
        // The flasher stub starts and greets the host.
        this.mode = 'stub';
        this.events.push('stub running');
        this.opts.send(slipEncode(Buffer.from('OHAI')));
        return;
      case OP.FLASH_BEGIN:
      case OP.FLASH_DEFL_BEGIN:
        this.endRegion();
        this.region = {
          address: u32(12),
          compressed: op === OP.FLASH_DEFL_BEGIN,
          chunks: [],
          written: 0,
        };
        return this.reply(op);
      case OP.FLASH_DATA:
      case OP.FLASH_DEFL_DATA: {
        const size = u32(0);
        const payload = data.subarray(16, 16 + size);
        let sum = CHECKSUM_SEED;
        for (const b of payload) sum ^= b;
        if (!this.region || sum !== chk || payload.length !== size)
          return this.reply(op, 0, Buffer.alloc(0), 1);
        this.region.chunks.push(Buffer.from(payload));
        this.flushRegion(false);
        this.blocks++;
        if (
          this.opts.unplugAfterBlocks !== undefined &&
          this.blocks >= this.opts.unplugAfterBlocks
        ) {
          this.mode = 'unplugged';
          this.events.push(`unplugged after ${this.blocks} blocks`);
          this.opts.unplug?.();
          return;
        }
        return this.reply(op);
      }
      case OP.FLASH_END:
      case OP.FLASH_DEFL_END:
        this.endRegion();
        return this.reply(op);
      case OP.SPI_FLASH_MD5: {
        this.endRegion();
        const md5 = createHash('md5')
          .update(this.flash.subarray(u32(0), u32(0) + u32(4)))
          .digest();
        return this.reply(op, 0, this.mode === 'stub' ? md5 : Buffer.from(md5.toString('hex')));
      }
      default:
        this.events.push(`unknown command 0x${op.toString(16)}`);
        return this.reply(op, 0, Buffer.alloc(0), 1);
    }
  }
}
