import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createMqttFabric, type FabricPacket, type MqttFabric } from './mqtt-fabric.js';

const REDIS_URL = process.env.TRUSTLINK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('MQTT fabric on Redis', () => {
  const open: MqttFabric[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((f) => f.close()));
  });
  /** Two replicas' fabrics on one Redis, under a prefix of this test's own. */
  const replicas = () => {
    const prefix = `trustlink-test/${randomUUID()}/`;
    const a = createMqttFabric({ url: REDIS_URL, prefix });
    const b = createMqttFabric({ url: REDIS_URL, prefix });
    open.push(a, b);
    return [a, b] as const;
  };
  const on = (e: ReturnType<MqttFabric['forHub']>, filter: string, got: string[]) =>
    new Promise<void>((resolve) =>
      e.on(
        filter,
        (p: FabricPacket, done) => {
          got.push(`${p.topic}=${String(p.payload)}`);
          done();
        },
        resolve,
      ),
    );
  const emit = (e: ReturnType<MqttFabric['forHub']>, topic: string, payload: string) =>
    new Promise<void>((resolve, reject) =>
      e.emit({ cmd: 'publish', topic, payload: Buffer.from(payload) }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );

  it('a message of a hub reaches that hub on the other replica with its own topic, no other hub', async () => {
    const [a, b] = replicas();
    const hubOnA = a.forHub('i1', 'h1');
    const hubOnB = b.forHub('i1', 'h1');
    const otherHubOnB = b.forHub('i1', 'h2');
    const otherInstanceOnB = b.forHub('i2', 'h1');
    const got: string[] = [];
    const leaked: string[] = [];
    await on(hubOnB, 'devices/#', got);
    await on(otherHubOnB, '#', leaked);
    await on(otherInstanceOnB, '#', leaked);
    await emit(hubOnA, 'devices/d1/t', 'one');
    await emit(hubOnA, 'devices', 'empty level'); // `a/#` matches `a` (MQTT-4.7.1-3)
    await until(() => got.length === 2);
    expect(got).toEqual(['devices/d1/t=one', 'devices=empty level']);
    await new Promise((r) => setTimeout(r, 300));
    expect(leaked).toEqual([]);
  });

  it('glob characters in a filter match themselves, not other topics', async () => {
    const [a, b] = replicas();
    const got: string[] = [];
    await on(b.forHub('i', 'h'), 'a/[x]*/+', got);
    const pub = a.forHub('i', 'h');
    await emit(pub, 'a/x/y', 'glob would match');
    await emit(pub, 'a/xx/y', 'glob would match too');
    await emit(pub, 'a/[x]*/y', 'literal');
    await until(() => got.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual(['a/[x]*/y=literal']);
  });

  it('removing a listener and closing a hub view stop delivery, the fabric stays up for others', async () => {
    const [a, b] = replicas();
    const view = b.forHub('i', 'h');
    const keep = b.forHub('i', 'k');
    const got: string[] = [];
    const kept: string[] = [];
    await on(view, 't', got);
    await on(keep, 't', kept);
    await new Promise<void>((r) => view.close(r));
    await emit(a.forHub('i', 'h'), 't', 'after close');
    await emit(a.forHub('i', 'k'), 't', 'other hub');
    await until(() => kept.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([]);
    expect(kept).toEqual(['t=other hub']);
  });

  it('closes promptly when Redis cannot be reached (a stopping server is not held)', async () => {
    const f = createMqttFabric({ url: 'redis://127.0.0.1:1' });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await f.close();
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
