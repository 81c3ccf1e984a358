import type { Page } from 'playwright-core';
import { Esp32RomEmulator, type EmulatorOptions } from './esp32-rom-emulator.js';

/**
 * Puts a fake `navigator.serial` into the page whose one port is wired to an emulated device in
 * Node: what the page writes goes to the device; what the device sends is pushed into the port's
 * readable stream; DTR/RTS reach the device's reset circuit. Headless Chromium has no serial
 * ports, and calling the real requestPort() there closes the page; this stands in for the
 * browser's port chooser and a USB-UART bridge (a CP2102's IDs).
 */
const PAGE_SCRIPT = `(() => {
  const toB64 = (u8) => { let s = ''; for (const b of u8) s += String.fromCharCode(b); return btoa(s); };
  const fromB64 = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const lost = () => new DOMException('The device has been lost.', 'NetworkError');
  let controller = null, readable = null, writable = null, isOpen = false, gone = false;
  const port = {
    get readable() { return readable; },
    get writable() { return writable; },
    async open(options) {
      if (gone) throw lost();
      if (isOpen) throw new DOMException('The port is already open.', 'InvalidStateError');
      isOpen = true;
      readable = new ReadableStream({ start(c) { controller = c; } });
      writable = new WritableStream({
        async write(chunk) { if (gone) throw lost(); await window.__tlSerialWrite(toB64(chunk)); },
      });
      await window.__tlSerialOpen(options.baudRate);
    },
    async close() {
      isOpen = false;
      try { controller && controller.close(); } catch {}
      controller = null; readable = null; writable = null;
      await window.__tlSerialClose();
    },
    async setSignals(s) {
      if (gone) throw lost();
      await window.__tlSerialSignals({ dataTerminalReady: s.dataTerminalReady, requestToSend: s.requestToSend });
    },
    getInfo() { return { usbVendorId: 0x10c4, usbProductId: 0xea60 }; },
    addEventListener() {}, removeEventListener() {},
  };
  window.__tlSerialPush = (b64) => { try { controller && controller.enqueue(fromB64(b64)); } catch {} };
  window.__tlSerialUnplug = () => {
    gone = true;
    try { controller && controller.error(lost()); } catch {}
    controller = null; readable = null; writable = null;
  };
  Object.defineProperty(navigator, 'serial', {
    configurable: true,
    value: {
      requestPort: async () => port,
      getPorts: async () => [port],
      addEventListener() {}, removeEventListener() {},
    },
  });
})();`;

export interface FakeSerial {
  /** The device now on the port; `plug` replaces it with a new one. */
  device: Esp32RomEmulator;
  plug(opts: Omit<EmulatorOptions, 'send' | 'unplug'>): Esp32RomEmulator;
  /** Baud rates the page opened the port at, in order. */
  opens: number[];
}

/** Installs the fake port on the page; takes effect from the next navigation. */
export async function installFakeSerial(page: Page): Promise<FakeSerial> {
  let queue = Promise.resolve();
  // Pushes keep their order: each waits for the one before.
  const push = (bytes: Buffer) => {
    const b64 = bytes.toString('base64');
    queue = queue.then(() =>
      page
        .evaluate(
          (x) => (window as unknown as { __tlSerialPush(s: string): void }).__tlSerialPush(x),
          b64,
        )
        .catch(() => undefined),
    );
  };
  const unplug = () => {
    queue = queue.then(() =>
      page
        .evaluate(() => (window as unknown as { __tlSerialUnplug(): void }).__tlSerialUnplug())
        .catch(() => undefined),
    );
  };
  const fake: FakeSerial = {
    device: undefined as unknown as Esp32RomEmulator,
    opens: [],
    plug(opts) {
      fake.device = new Esp32RomEmulator({ ...opts, send: push, unplug });
      return fake.device;
    },
  };
  await page.exposeFunction('__tlSerialWrite', (b64: string) =>
    fake.device?.receive(Buffer.from(b64, 'base64')),
  );
  await page.exposeFunction(
    '__tlSerialSignals',
    (s: { dataTerminalReady?: boolean; requestToSend?: boolean }) => fake.device?.setSignals(s),
  );
  await page.exposeFunction('__tlSerialOpen', (baud: number) => void fake.opens.push(baud));
  await page.exposeFunction('__tlSerialClose', () => undefined);
  await page.addInitScript(PAGE_SCRIPT);
  return fake;
}
