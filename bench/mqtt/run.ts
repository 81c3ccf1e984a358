/**
 * bench/mqtt: the embedded MQTT broker beside Mosquitto (Debian package), same certificates,
 * same machine, same run. For each broker:
 *
 * - QoS 0 and QoS 1 messages per second from one publisher to one subscriber (mqtt.js), and
 *   the broker's CPU per 1,000 messages;
 * - BENCH_N device connections (mutual TLS, one certificate each) opened from several client
 *   processes on loopback addresses 127.0.0.2, .3, ... and held: setup rate, broker CPU per
 *   connection setup, broker memory (resident set) per held connection.
 *
 * Broker CPU and memory are read from /proc for both brokers alike (the Node broker is
 * garbage-collected before each memory reading). Clients run on the same 2 cores, so setup
 * rates are lower bounds; CPU per connection is the broker's own.
 *
 *   npm run bench:mqtt                      (BENCH_N=1000 connections, BENCH_MESSAGES=20000)
 *   BENCH_N=15000 BENCH_PER_PROCESS=2500 BENCH_BROKERS=embedded npm run bench:mqtt
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makeCa, type BenchCa } from './pki.js';

const N = Number(process.env.BENCH_N ?? 1000);
const PER_PROCESS = Number(process.env.BENCH_PER_PROCESS ?? 2500);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const PROTOCOL = Number(process.env.BENCH_PROTOCOL ?? 4) as 4 | 5;
/** Which brokers to measure: both by default; `embedded` alone for the largest runs. */
const BROKERS = (process.env.BENCH_BROKERS ?? 'embedded,mosquitto').split(',');
const here = path.dirname(new URL(import.meta.url).pathname);
const TICK = 100; // clock ticks per second (USER_HZ) in /proc/<pid>/stat

function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICK;
}
function procRssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

/** Sends a command to a child and waits for its answer of the same name. */
function ask<T = Record<string, unknown>>(
  child: ChildProcess,
  msg: Record<string, unknown>,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: { cmd: string; message?: string }) => {
      if (m.cmd === 'error') {
        child.off('message', on);
        reject(new Error(m.message));
      } else if (m.cmd === msg.cmd) {
        child.off('message', on);
        resolve(m as T);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}

const tsFork = (file: string, extra: string[] = []) =>
  fork(path.join(here, file), [], { execArgv: ['--import', 'tsx', ...extra], stdio: 'inherit' });

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

interface Broker {
  name: string;
  pid: number;
  port: number;
  gc(): Promise<void>;
  /** The Node broker's heap figures (bytes), to split its memory into JS heap and the rest. */
  heap?(): Promise<{ heapUsed: number; external: number }>;
  /** Writes a heap snapshot of the Node broker (BENCH_SNAPSHOT=<file>, connections held). */
  snapshot?(file: string): Promise<unknown>;
  stop(): Promise<void>;
}

async function startEmbedded(ca: BenchCa): Promise<Broker> {
  const child = tsFork('embedded-broker-process.ts', ['--expose-gc']);
  const ready = await ask<{ port: number }>(child, {
    cmd: 'ready',
    caPem: ca.caPem,
    serverPem: ca.serverPem,
    serverKeyPem: ca.serverKeyPem,
  });
  return {
    name: 'embedded (aedes)',
    pid: child.pid!,
    port: ready.port,
    gc: async () => void (await ask(child, { cmd: 'gc' })),
    snapshot: (file) => ask(child, { cmd: 'snapshot', file }),
    heap: () => ask<{ heapUsed: number; external: number }>(child, { cmd: 'mem' }),
    stop: async () => {
      child.send({ cmd: 'stop' });
      await new Promise((r) => child.once('exit', r));
    },
  };
}

async function startMosquitto(ca: BenchCa, dir: string): Promise<Broker> {
  const port = await freePort();
  for (const [f, v] of [
    ['ca.pem', ca.caPem],
    ['server.pem', ca.serverPem],
    ['server.key', ca.serverKeyPem],
  ] as const)
    writeFileSync(path.join(dir, f), v, { mode: 0o644 });
  // Run as root, mosquitto drops to its own user, which must read the files.
  chmodSync(dir, 0o755);
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      'per_listener_settings false',
      'allow_anonymous true',
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'max_connections -1',
      `listener ${port} 127.0.0.1`,
      `cafile ${dir}/ca.pem`,
      `certfile ${dir}/server.pem`,
      `keyfile ${dir}/server.key`,
      'require_certificate true',
      'use_identity_as_username true',
      '',
    ].join('\n'),
  );
  // Its log is kept, not shown: clients closing abruptly make it log every socket.
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 100; i++) {
    if (exited) throw new Error(`mosquitto exited at start: ${stderr}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: 'Mosquitto ' + (process.env.MOSQUITTO_VERSION ?? '2.0'),
    pid: child.pid!,
    port,
    gc: async () => undefined,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

interface Result {
  qos0: number;
  qos1: number;
  cpuPer1000Qos1Ms: number;
  connected: number;
  failed: number;
  firstError?: string;
  setupPerSecond: number;
  cpuPerConnectionMs: number;
  kbPerConnection: number;
  baseRssMb: number;
  heldRssMb: number;
  heapKbPerConnection?: number;
  externalKbPerConnection?: number;
}

const log = (m: string) => console.log(`  ${new Date().toISOString().slice(11, 19)} ${m}`);

async function measure(b: Broker, pools: ChildProcess[], tput: ChildProcess): Promise<Result> {
  await b.gc();
  await new Promise((r) => setTimeout(r, 1000));
  await b.gc();
  const rss0 = procRssKb(b.pid);
  const heap0 = await b.heap?.();
  const cpu0 = procCpuMs(b.pid);
  log(`${b.name}: ${N} connections`);
  const started = Date.now();
  const conns = await Promise.all(
    pools.map((p) =>
      ask<{ connected: number; failed: number; firstError?: string }>(p, {
        cmd: 'connect',
        port: b.port,
        concurrency: CONCURRENCY,
        protocolVersion: PROTOCOL,
      }),
    ),
  );
  const wallS = (Date.now() - started) / 1000;
  const cpu1 = procCpuMs(b.pid);
  const connected = conns.reduce((a, c) => a + c.connected, 0);
  const failed = conns.reduce((a, c) => a + c.failed, 0);
  await new Promise((r) => setTimeout(r, 2000));
  await b.gc();
  const rss1 = procRssKb(b.pid);
  const heap1 = await b.heap?.();
  if (process.env.BENCH_SNAPSHOT) await b.snapshot?.(process.env.BENCH_SNAPSHOT);
  for (const p of pools) await ask(p, { cmd: 'close' });
  log(`${b.name}: QoS 0`);
  const t0 = await ask<{ perSecond: number }>(tput, {
    cmd: 'throughput',
    port: b.port,
    qos: 0,
    messages: MESSAGES,
    protocolVersion: PROTOCOL,
  });
  log(`${b.name}: QoS 1`);
  const c1 = procCpuMs(b.pid);
  const t1 = await ask<{ perSecond: number; received: number }>(tput, {
    cmd: 'throughput',
    port: b.port,
    qos: 1,
    messages: MESSAGES,
    protocolVersion: PROTOCOL,
  });
  const cpuQos1 = procCpuMs(b.pid) - c1;
  return {
    qos0: t0.perSecond,
    qos1: t1.perSecond,
    cpuPer1000Qos1Ms: (cpuQos1 / t1.received) * 1000,
    connected,
    failed,
    firstError: conns.find((c) => c.firstError)?.firstError,
    setupPerSecond: connected / wallS,
    cpuPerConnectionMs: (cpu1 - cpu0) / Math.max(connected, 1),
    kbPerConnection: (rss1 - rss0) / Math.max(connected, 1),
    baseRssMb: rss0 / 1024,
    heldRssMb: rss1 / 1024,
    heapKbPerConnection:
      heap0 && heap1
        ? (heap1.heapUsed - heap0.heapUsed) / 1024 / Math.max(connected, 1)
        : undefined,
    externalKbPerConnection:
      heap0 && heap1
        ? (heap1.external - heap0.external) / 1024 / Math.max(connected, 1)
        : undefined,
  };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-bench-mqtt-'));
  const ca = await makeCa();
  const nProcs = Math.max(1, Math.ceil(N / PER_PROCESS));
  console.log(
    `bench/mqtt: ${N} connections from ${nProcs} client processes, ${MESSAGES} messages, ` +
      `MQTT ${PROTOCOL === 5 ? '5' : '3.1.1'}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), Node ${process.version}`,
  );
  const pools: ChildProcess[] = [];
  for (let k = 0; k < nProcs; k++) {
    const p = tsFork('client-process.ts');
    const from = k * PER_PROCESS;
    const to = Math.min(N, from + PER_PROCESS);
    await ask(p, { cmd: 'setup', setup: { ca, from, to, localAddress: `127.0.0.${2 + k}` } });
    pools.push(p);
  }
  const tput = tsFork('client-process.ts');
  await ask(tput, {
    cmd: 'setup',
    setup: { ca, from: N + 10, to: N + 12, localAddress: '127.0.0.1' },
  });

  const results: [string, Result][] = [];
  const starters = [
    ['embedded', () => startEmbedded(ca)],
    ['mosquitto', () => startMosquitto(ca, dir)],
  ] as const;
  for (const [name, start] of starters) {
    if (!BROKERS.includes(name)) continue;
    const b = await start();
    try {
      results.push([b.name, await measure(b, pools, tput)]);
    } finally {
      await b.stop();
    }
  }
  for (const p of [...pools, tput]) p.send({ cmd: 'exit' });
  rmSync(dir, { recursive: true, force: true });

  const row = (label: string, f: (r: Result) => string) =>
    console.log(`${label.padEnd(34)}${results.map(([, r]) => f(r).padStart(20)).join('')}`);
  console.log(`${''.padEnd(34)}${results.map(([n]) => n.padStart(20)).join('')}`);
  row('QoS 0 messages/s', (r) => r.qos0.toFixed(0));
  row('QoS 1 messages/s', (r) => r.qos1.toFixed(0));
  row('broker CPU ms per 1000 QoS 1', (r) => r.cpuPer1000Qos1Ms.toFixed(1));
  row('connections held (failed)', (r) => `${r.connected} (${r.failed})`);
  row('connection setups/s (wall)', (r) => r.setupPerSecond.toFixed(0));
  row('broker CPU ms per setup', (r) => r.cpuPerConnectionMs.toFixed(2));
  row('broker KB per held connection', (r) => r.kbPerConnection.toFixed(1));
  row('  of which JS heap / external KB', (r) =>
    r.heapKbPerConnection === undefined
      ? '-'
      : `${r.heapKbPerConnection.toFixed(1)} / ${r.externalKbPerConnection!.toFixed(1)}`,
  );
  row('broker RSS MB before/held', (r) => `${r.baseRssMb.toFixed(0)}/${r.heldRssMb.toFixed(0)}`);
  for (const [n, r] of results) if (r.firstError) console.log(`${n}: first error: ${r.firstError}`);
  if (results.length < 2) return;
  const [[, e], [, m]] = results as [[string, Result], [string, Result]];
  console.log(
    `ratios embedded/Mosquitto: memory ${(e.kbPerConnection / m.kbPerConnection).toFixed(2)}x (goal <= 2), ` +
      `setup CPU ${(e.cpuPerConnectionMs / m.cpuPerConnectionMs).toFixed(2)}x (goal <= 1.5), ` +
      `QoS 1 throughput ${(e.qos1 / m.qos1).toFixed(2)}x (goal >= 1)`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
