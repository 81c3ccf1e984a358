import net from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { dropClientNotices, slimParser, type ParserBuffer } from './hub-broker.js';

/**
 * The two places where hub-broker.ts trims aedes' per-connection work reach into aedes and
 * mqtt-packet internals (pinned versions): these tests fail if an upgrade moves them.
 */
describe('hub broker trims of aedes', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  async function serve(broker: Aedes, onClient?: (client: unknown) => void): Promise<number> {
    const srv = net.createServer((socket) => {
      const c = broker.handle(socket);
      onClient?.(c);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    closers.push(
      () => new Promise((r) => broker.close(() => r(undefined))),
      () => new Promise((r) => srv.close(() => r(undefined))),
    );
    return (srv.address() as net.AddressInfo).port;
  }
  async function client(port: number, clientId: string) {
    const c = await mqtt.connectAsync({ host: '127.0.0.1', port, clientId, reconnectPeriod: 0 });
    closers.push(() => (c.connected ? c.endAsync(true) : Promise.resolve()));
    return c;
  }

  it('ok/no $SYS client notices without a fabric; the heartbeat and client publishes stay', async () => {
    const broker = await Aedes.createBroker({ id: 'notices', heartbeatInterval: 50 });
    dropClientNotices(broker);
    const seen: string[] = [];
    const listen = (topic: string) =>
      new Promise<void>((r) =>
        broker.subscribe(
          topic,
          (p: { topic: string }, done: () => void) => (seen.push(p.topic), done()),
          r,
        ),
      );
    await listen('$SYS/+/new/+');
    await listen('$SYS/+/disconnect/+');
    await listen('$SYS/+/heartbeat');
    await listen('up/#');
    const port = await serve(broker);
    const a = await client(port, 'a');
    await a.subscribeAsync('x/#');
    await a.publishAsync('up/a', 'hello', { qos: 1 });
    await a.endAsync(true);
    const b = await client(port, 'b');
    await b.endAsync();
    await new Promise((r) => setTimeout(r, 150));
    expect(seen).toContain('up/a');
    expect(seen).toContain('$SYS/notices/heartbeat');
    expect(seen.filter((t) => /\/(new|disconnect)\//.test(t))).toEqual([]);
  });

  it('ok/the parser buffers in a plain BufferList and still parses every packet', async () => {
    const broker = await Aedes.createBroker({ id: 'slim' });
    const lists: unknown[] = [];
    const port = await serve(broker, (c) => {
      const parser = (c as { _parser: ParserBuffer })._parser;
      slimParser(parser);
      lists.push(parser._list);
    });
    const got: string[] = [];
    const sub = await client(port, 'sub');
    sub.on('message', (t, p) => got.push(`${t}=${p.toString()}`));
    await sub.subscribeAsync('t/#', { qos: 1 });
    const pub = await client(port, 'pub');
    // Large enough to arrive in pieces, so the buffer joins and consumes across reads.
    const big = 'x'.repeat(200_000);
    await pub.publishAsync('t/1', 'small', { qos: 1 });
    await pub.publishAsync('t/2', big, { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual(['t/1=small', `t/2=${big}`]);
    expect(lists).toHaveLength(2);
    for (const l of lists) {
      expect(typeof (l as { append?: unknown }).append).toBe('function');
      expect((l as { pipe?: unknown }).pipe).toBeUndefined(); // not a stream any more
    }
  });
});
