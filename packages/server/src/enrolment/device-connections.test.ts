import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { DeviceState } from '../devices/device-repo.js';
import { createDeviceConnections } from './device-connections.js';

/** A socket stand-in: destroy() closes it, as a real one would. */
function fakeSocket() {
  const s = new EventEmitter() as EventEmitter & { destroyed: boolean; destroy(): void };
  s.destroyed = false;
  s.destroy = () => {
    s.destroyed = true;
    s.emit('close');
  };
  return s;
}
const asSocket = (s: ReturnType<typeof fakeSocket>) => s as unknown as Socket;

describe('device connections', () => {
  it('ok/closing a device closes its connections only', () => {
    const c = createDeviceConnections({ states: async () => new Map() });
    const [a1, a2, b1] = [fakeSocket(), fakeSocket(), fakeSocket()];
    c.track('i', 'a', asSocket(a1));
    c.track('i', 'a', asSocket(a2));
    c.track('i', 'a', asSocket(a2));
    c.track('i', 'b', asSocket(b1));
    expect(c.count('i', 'a')).toBe(2);
    expect(c.close('i', 'a')).toBe(2);
    expect([a1.destroyed, a2.destroyed, b1.destroyed]).toEqual([true, true, false]);
    expect(c.count('i', 'a')).toBe(0);
    expect(c.count('i', 'b')).toBe(1);
  });
  it('ok/a connection that closes by itself is forgotten', () => {
    const c = createDeviceConnections({ states: async () => new Map() });
    const s = fakeSocket();
    c.track('i', 'a', asSocket(s));
    s.emit('close');
    expect(c.count('i', 'a')).toBe(0);
  });
  it('ok/the reconcile closes revoked and vanished devices', async () => {
    const states = new Map<string, DeviceState>([
      ['a', 'revoked'],
      ['b', 'enrolled'],
    ]);
    const c = createDeviceConnections({ states: async () => states });
    const [a, b, gone] = [fakeSocket(), fakeSocket(), fakeSocket()];
    c.track('i', 'a', asSocket(a));
    c.track('i', 'b', asSocket(b));
    c.track('i', 'gone', asSocket(gone));
    expect(await c.reconcile()).toBe(2);
    expect([a.destroyed, b.destroyed, gone.destroyed]).toEqual([true, false, true]);
  });
});
