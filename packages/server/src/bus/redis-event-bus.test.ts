import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createDeviceEvents, type DeviceEvent } from '../devices/device-events.js';
import type { EventBus } from './event-bus.js';
import { createRedisBus } from './redis-event-bus.js';

const REDIS_URL = process.env.TRUSTLINK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Waits until `check` holds (bounded generously: the machine is shared). */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Redis event bus', () => {
  const open: EventBus[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
  });
  // Each test has its own prefix, so parallel runs on one Redis do not hear each other.
  const pair = () => {
    const prefix = `trustlink-test-${randomUUID()}:`;
    const a = createRedisBus({ url: REDIS_URL, replicaId: 'a', prefix });
    const b = createRedisBus({ url: REDIS_URL, replicaId: 'b', prefix });
    open.push(a, b);
    return [a, b] as const;
  };

  it('delivers a message to the other replicas, not back to its sender', async () => {
    const [a, b] = pair();
    const atA: unknown[] = [];
    const atB: unknown[] = [];
    a.subscribe('ch', (m) => atA.push(m));
    b.subscribe('ch', (m) => atB.push(m));
    await new Promise((r) => setTimeout(r, 200)); // SUBSCRIBE is asynchronous
    await a.publish('ch', { n: 1 });
    await until(() => atB.length === 1);
    expect(atB).toEqual([{ n: 1 }]);
    await b.publish('other', { n: 2 });
    await a.publish('ch', { n: 3 });
    await until(() => atB.length === 2);
    expect(atB).toEqual([{ n: 1 }, { n: 3 }]);
    expect(atA).toEqual([]);
  });

  it('carries device events so listeners on every replica run; malformed ones are ignored', async () => {
    const [a, b] = pair();
    const eventsA = createDeviceEvents(undefined, a);
    const warned: object[] = [];
    const eventsB = createDeviceEvents({ warn: (o) => void warned.push(o) }, b);
    const heardA: DeviceEvent[] = [];
    const heardB: DeviceEvent[] = [];
    eventsA.on((e) => void heardA.push(e));
    eventsB.on((e) => void heardB.push(e));
    await new Promise((r) => setTimeout(r, 200));
    const revoked: DeviceEvent = { type: 'revoked', instanceId: 'i', deviceId: 'd', reason: 'x' };
    eventsA.emit(revoked);
    await until(() => heardB.length === 1);
    expect(heardB).toEqual([revoked]);
    expect(heardA).toEqual([revoked]); // locally once, not again from the bus
    await a.publish('device-events', { type: 'revoked', deviceId: 42 });
    await until(() => warned.length === 1);
    expect(heardB).toHaveLength(1);
    eventsA.close();
    eventsB.close();
  });

  it('a bus that cannot reach Redis loses messages without throwing at subscribers', async () => {
    const bus = createRedisBus({ url: 'redis://127.0.0.1:1', replicaId: 'x' });
    open.push(bus);
    const got: unknown[] = [];
    bus.subscribe('ch', (m) => got.push(m));
    await expect(
      Promise.race([
        bus.publish('ch', { n: 1 }),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 4000)),
      ]),
    ).rejects.toThrow();
    expect(got).toEqual([]);
  });
});
