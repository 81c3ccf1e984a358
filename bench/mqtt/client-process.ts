/**
 * A pool of MQTT device connections (mqtt.js over mutual TLS) from one loopback address, in
 * its own process: a process may open at most 20,000 files here, and spreading clients over
 * addresses keeps each address's ephemeral ports far from running out. Driven by run.ts.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { clientCerts, clientIdOf, type BenchCa } from './pki.js';

interface Setup {
  ca: BenchCa;
  from: number;
  to: number;
  localAddress: string;
}

let setup: Setup;
let certs: string[] = [];
let clients: MqttClient[] = [];

function connect(port: number, n: number, protocolVersion: 4 | 5): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({
      protocol: 'mqtts',
      host: '127.0.0.1',
      servername: 'localhost',
      port,
      localAddress: setup.localAddress,
      ca: setup.ca.caPem,
      cert: certs[n - setup.from],
      key: setup.ca.clientKeyPem,
      clientId: clientIdOf(n),
      protocolVersion,
      keepalive: 900,
      reconnectPeriod: 0,
      connectTimeout: 60_000,
      clean: true,
    } as mqtt.IClientOptions);
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
  });
}

async function connectAll(port: number, concurrency: number, protocolVersion: 4 | 5) {
  const started = Date.now();
  let next = setup.from;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (next < setup.to) {
      const n = next++;
      try {
        clients.push(await connect(port, n, protocolVersion));
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { connected: clients.length, failed, firstError, ms: Date.now() - started };
}

/** One publisher and one subscriber; messages per second the subscriber receives. */
async function throughput(port: number, qos: 0 | 1, messages: number, protocolVersion: 4 | 5) {
  const sub = await connect(port, setup.from, protocolVersion);
  const pub = await connect(port, setup.from + 1, protocolVersion);
  const topic = `bench/${setup.from}/t`;
  await sub.subscribeAsync(topic, { qos });
  let got = 0;
  const payload = Buffer.alloc(64, 1);
  const started = process.hrtime.bigint();
  const done = new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 60_000);
    sub.on('message', () => {
      if (++got === messages) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  // QoS 1: at most `window` unacknowledged at a time, like a device library would keep.
  const window = qos === 1 ? 100 : 1000;
  let inflight = 0;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < messages && inflight < window) {
        inflight++;
        sent++;
        pub.publish(topic, payload, { qos }, () => {
          inflight--;
          if (sent < messages) setImmediate(pump);
          else if (inflight === 0) resolve();
        });
      }
    };
    pump();
  });
  await done;
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  await Promise.all([sub.endAsync(), pub.endAsync()]);
  return { received: got, perSecond: got / secs };
}

process.on('message', async (m: Record<string, unknown>) => {
  try {
    if (m.cmd === 'setup') {
      setup = m.setup as Setup;
      certs = await clientCerts(setup.ca, setup.from, setup.to);
      process.send!({ cmd: 'setup' });
    } else if (m.cmd === 'connect') {
      const r = await connectAll(
        m.port as number,
        m.concurrency as number,
        m.protocolVersion as 4 | 5,
      );
      process.send!({ cmd: 'connect', ...r });
    } else if (m.cmd === 'throughput') {
      const r = await throughput(
        m.port as number,
        m.qos as 0 | 1,
        m.messages as number,
        m.protocolVersion as 4 | 5,
      );
      process.send!({ cmd: 'throughput', ...r });
    } else if (m.cmd === 'close') {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      clients = [];
      process.send!({ cmd: 'close' });
    } else if (m.cmd === 'exit') process.exit(0);
  } catch (err) {
    process.send!({ cmd: 'error', message: (err as Error).stack });
  }
});
