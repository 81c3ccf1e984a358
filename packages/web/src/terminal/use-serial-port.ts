import { useCallback, useEffect, useRef, useState } from 'react';
import { webSerial, type SerialPortLike } from './web-serial';

export type SerialStatus = 'disconnected' | 'connecting' | 'connected';

/**
 * One serial port at a time: `connect` asks the browser for a port (its own chooser, which
 * needs a click), opens it at the baud rate and reads until disconnected; every chunk read is
 * handed to `onText`. `send` writes text. Errors come back as messages for the screen.
 */
export function useSerialPort(onText: (text: string) => void) {
  const [status, setStatus] = useState<SerialStatus>('disconnected');
  const [error, setError] = useState<string>();
  const port = useRef<SerialPortLike | undefined>(undefined);
  const reader = useRef<ReadableStreamDefaultReader<Uint8Array> | undefined>(undefined);
  const reading = useRef<Promise<void> | undefined>(undefined);
  const textOut = useRef(onText);
  textOut.current = onText;

  const readLoop = useCallback(async (p: SerialPortLike) => {
    const decoder = new TextDecoder();
    while (p.readable) {
      const r = p.readable.getReader();
      reader.current = r;
      try {
        for (;;) {
          const { value, done } = await r.read();
          if (done) return;
          textOut.current(decoder.decode(value, { stream: true }));
        }
      } catch (err) {
        // A framing or buffer error ends this read; the loop gets a new reader if it can.
        setError((err as Error).message);
      } finally {
        r.releaseLock();
        reader.current = undefined;
      }
    }
  }, []);

  const disconnect = useCallback(async () => {
    const p = port.current;
    if (!p) return;
    port.current = undefined;
    try {
      await reader.current?.cancel();
      await reading.current;
      await p.close();
    } catch (err) {
      setError((err as Error).message);
    }
    setStatus('disconnected');
  }, []);

  const connect = useCallback(
    async (baudRate: number) => {
      const serial = webSerial();
      if (!serial) return;
      setError(undefined);
      setStatus('connecting');
      try {
        const p = await serial.requestPort();
        await p.open({ baudRate });
        port.current = p;
        setStatus('connected');
        reading.current = readLoop(p).then(() => {
          // The device went away (unplugged): the read ended without a disconnect.
          if (port.current === p) void disconnect();
        });
      } catch (err) {
        setStatus('disconnected');
        // Closing the browser's chooser without a port is not an error worth showing.
        if ((err as DOMException).name !== 'NotFoundError') setError((err as Error).message);
      }
    },
    [readLoop, disconnect],
  );

  const send = useCallback(async (text: string) => {
    const w = port.current?.writable?.getWriter();
    if (!w) return;
    try {
      await w.write(new TextEncoder().encode(text));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      w.releaseLock();
    }
  }, []);

  // Leaving the screen closes the port, so another tab or program can open it.
  useEffect(() => () => void disconnect(), [disconnect]);

  return { status, error, connect, disconnect, send, supported: !!webSerial() };
}
