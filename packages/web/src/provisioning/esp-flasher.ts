import { ESPLoader, Transport, type IEspLoaderTerminal } from 'esptool-js';
import type { SerialPortLike } from '../terminal/web-serial';
import {
  bytesOf,
  findIdentityLine,
  hexAddress,
  md5Hex,
  splitLines,
  verificationFailure,
} from './provisioning-fns';
import type { FlashPlan } from './provisioning-types';

/** Web Serial's port with the control lines, which resetting the chip needs. */
export type FlashPort = SerialPortLike & {
  setSignals(s: { dataTerminalReady?: boolean; requestToSend?: boolean }): Promise<void>;
};

export interface FlashCallbacks {
  /** A line for "Show logs": our steps and esptool-js's own messages. */
  log(line: string): void;
  /** Bytes of image `index` (of plan.images) sent so far, of `total` (compressed). */
  progress(index: number, written: number, total: number): void;
}

/** The ROM loader's baud rate, and the faster one the flasher stub switches to. */
const ROM_BAUD = 115200;
const FLASH_BAUD = 460800;
/** How long the freshly flashed device may take to boot and print its identity. */
export const IDENTITY_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes the plan's images with esptool-js (Espressif's Web Serial flasher): connects through
 * the ROM loader, checks the chip is the task's, writes each image compressed at its address
 * without touching its header (a signed image must stay byte for byte), verifies each against
 * the MD5 the chip computes over what its flash now holds, then closes the port.
 */
export async function flashImages(
  port: FlashPort,
  plan: FlashPlan,
  cb: FlashCallbacks,
): Promise<void> {
  const transport = new Transport(
    port as unknown as ConstructorParameters<typeof Transport>[0],
    false,
  );
  const terminal: IEspLoaderTerminal = {
    clean: () => undefined,
    writeLine: (d: string) => cb.log(d),
    write: (d: string) => {
      if (d.trim()) cb.log(d.trim());
    },
  };
  const loader = new ESPLoader({
    transport,
    baudrate: FLASH_BAUD,
    romBaudrate: ROM_BAUD,
    terminal,
  });
  try {
    cb.log('Connecting to the ROM loader (the board is reset into download mode)');
    await loader.main();
    if (loader.chip.CHIP_NAME !== plan.chip)
      throw new Error(
        `the connected chip is ${loader.chip.CHIP_NAME}, but this task is for ${plan.chip}; nothing was written`,
      );
    for (const i of plan.images) cb.log(`Writing ${i.name} at ${hexAddress(i.address)}`);
    // esptool-js hashes each image just before writing it, so the count says which one failed.
    let hashed = 0;
    await loader
      .writeFlash({
        fileArray: plan.images.map((i) => ({ data: bytesOf(i.data), address: i.address })),
        flashMode: 'keep',
        flashFreq: 'keep',
        flashSize: 'keep',
        eraseAll: false,
        compress: true,
        reportProgress: (index, written, total) => cb.progress(index, written, total),
        // After each image, esptool-js asks the chip for the MD5 of that flash region and
        // throws when it differs from this one.
        calculateMD5Hash: (image: Uint8Array) => {
          hashed++;
          return md5Hex(image);
        },
      })
      .catch((err: unknown) => {
        const failed = verificationFailure(err, plan.images[hashed - 1]);
        throw failed ? new Error(failed) : err;
      });
    cb.log('All images written and verified');
  } finally {
    await transport.disconnect().catch(() => undefined);
  }
}

/**
 * Resets the device into its new firmware and reads its console until the identity line.
 * esptool-js's own hard reset only releases RTS, so the reset pulse is made here: EN low
 * (RTS asserted, DTR released so IO0 stays high: a normal boot), then high.
 */
export async function readIdentity(
  port: FlashPort,
  log: (line: string) => void,
  timeoutMs = IDENTITY_TIMEOUT_MS,
): Promise<string> {
  await port.open({ baudRate: ROM_BAUD });
  const reader = port.readable?.getReader();
  if (!reader) throw new Error('the serial port cannot be read');
  try {
    log('Resetting the device to boot the new firmware');
    await port.setSignals({ dataTerminalReady: false, requestToSend: true });
    await sleep(100);
    await port.setSignals({ dataTerminalReady: false, requestToSend: false });
    const decoder = new TextDecoder();
    const deadline = Date.now() + timeoutMs;
    let rest = '';
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `the device printed no identity line within ${Math.round(timeoutMs / 1000)} s; is the initial enrolment firmware running?`,
        );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), left)));
      const next = await Promise.race([reader.read(), timeout]);
      clearTimeout(timer);
      if (next === 'timeout') continue;
      if (next.done)
        throw new Error('the serial port closed before the device printed its identity');
      const split = splitLines(rest, decoder.decode(next.value, { stream: true }));
      rest = split.rest;
      for (const l of split.lines) if (l.trim()) log(`device: ${l}`);
      const line = findIdentityLine(split.lines);
      if (line) return line;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
    await port.close().catch(() => undefined);
  }
}
