/**
 * The parts of the Web Serial API the terminal uses (https://wicg.github.io/serial/). Not in
 * TypeScript's DOM library yet; only Chromium-based browsers have it, in secure contexts.
 */
export interface SerialPortLike {
  readonly readable: ReadableStream<Uint8Array> | null;
  readonly writable: WritableStream<Uint8Array> | null;
  open(options: { baudRate: number }): Promise<void>;
  close(): Promise<void>;
  getInfo?(): { usbVendorId?: number; usbProductId?: number };
}

export interface SerialLike {
  requestPort(options?: object): Promise<SerialPortLike>;
  addEventListener?(type: 'disconnect', listener: (e: Event) => void): void;
  removeEventListener?(type: 'disconnect', listener: (e: Event) => void): void;
}

/** The browser's Web Serial, or undefined where there is none. */
export function webSerial(): SerialLike | undefined {
  return (navigator as Navigator & { serial?: SerialLike }).serial;
}
