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
 * A third process, the TLS floor (tls-floor-process.ts), is the product's TLS listener alone
 * answering CONNECT with a fixed CONNACK: what Node's TLS costs before any MQTT.
 *
 * Broker CPU and memory are read from /proc for all alike (the Node processes are
 * garbage-collected before each memory reading). Clients run on the same 2 cores, so setup
 * rates are lower bounds; CPU per connection is the broker's own. All brokers run at once and
 * are measured in turn, BENCH_ROUNDS times (3), so a busy spell on a shared machine falls on
 * all of them; CPU and throughput figures are the medians of the rounds, memory is the first
 * round's (each process fresh). The figures are written into docs/benchmarks.md.
 *
 *   npm run bench:mqtt                      (BENCH_N=1000 connections, BENCH_MESSAGES=20000)
 *   BENCH_N=15000 BENCH_PER_PROCESS=2500 BENCH_BROKERS=embedded BENCH_ROUNDS=1 npm run bench:mqtt
 *   BENCH_PUBLISHERS=2       two publishing client processes (one can be the limit)
 *   BENCH_CPU_PROF=<dir>     V8 CPU profile of the embedded broker, written when it stops
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadavg } from 'node:os';
import { writeSection } from '../bench-report.js';
import { makeCa, type BenchCa } from './pki.js';

const N = Number(process.env.BENCH_N ?? 1000);
const PER_PROCESS = Number(process.env.BENCH_PER_PROCESS ?? 2500);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const PROTOCOL = Number(process.env.BENCH_PROTOCOL ?? 4) as 4 | 5;
/** Which to measure: all by default; `embedded` alone for the largest runs. */
const BROKERS = (process.env.BENCH_BROKERS ?? 'embedded,mosquitto,floor').split(',');
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
/** Client processes for the message rates, each one publisher and one subscriber. */
const PUBLISHERS = Math.max(1, Number(process.env.BENCH_PUBLISHERS ?? 1));
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
  /** False for the TLS floor, which carries no messages. */
  messages: boolean;
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
  // BENCH_CPU_PROF=<dir>: a V8 CPU profile of the broker process, written when it stops.
  const prof = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  // BENCH_NODE_FLAGS: V8/Node flags for the embedded broker (to try a flag before shipping it).
  const flags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const child = tsFork('embedded-broker-process.ts', ['--expose-gc', ...prof, ...flags]);
  const ready = await ask<{ port: number }>(child, {
    cmd: 'ready',
    caPem: ca.caPem,
    serverPem: ca.serverPem,
    serverKeyPem: ca.serverKeyPem,
  });
  return {
    name: 'embedded (aedes)',
    messages: true,
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

function mosquittoVersion(): string {
  const r = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
  return /version (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '2.0';
}

async function startFloor(ca: BenchCa): Promise<Broker> {
  const child = tsFork('tls-floor-process.ts', ['--expose-gc']);
  const ready = await ask<{ port: number }>(child, {
    cmd: 'ready',
    caPem: ca.caPem,
    serverPem: ca.serverPem,
    serverKeyPem: ca.serverKeyPem,
    protocolVersion: PROTOCOL,
  });
  return {
    name: 'TLS floor (Node, no MQTT)',
    messages: false,
    pid: child.pid!,
    port: ready.port,
    gc: async () => void (await ask(child, { cmd: 'gc' })),
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
      // The embedded broker's listener sets TCP_NODELAY on every connection; so does this.
      'set_tcp_nodelay true',
      // Its default queue (1,000 per client) drops messages a subscriber has not taken yet, and
      // the publisher is acknowledged anyway; aedes queues without a bound. Same here, so both
      // deliver every message and the rates compare.
      'max_queued_messages 0',
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
    name: 'Mosquitto ' + mosquittoVersion(),
    messages: true,
    pid: child.pid!,
    port,
    gc: async () => undefined,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

interface Held {
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
interface Flow {
  qos0: number;
  qos1: number;
  /** Messages the subscriber did not get within 60 s (QoS 0 and QoS 1 together). */
  lost: number;
  cpuPer1000Qos1Ms: number;
  /** The publishing and subscribing client process's CPU, to tell whether it is the limit. */
  clientCpuPer1000Qos1Ms: number;
}

const log = (m: string) => console.log(`  ${new Date().toISOString().slice(11, 19)} ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** BENCH_N connections opened and held, then closed. */
async function holdConnections(b: Broker, pools: ChildProcess[]): Promise<Held> {
  await b.gc();
  await sleep(1000);
  await b.gc();
  const rss0 = procRssKb(b.pid);
  const heap0 = await b.heap?.();
  const cpu0 = procCpuMs(b.pid);
  log(`${b.name}: ${N} connections (load average ${loadavg()[0]!.toFixed(1)})`);
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
  await sleep(2000);
  await b.gc();
  const rss1 = procRssKb(b.pid);
  const heap1 = await b.heap?.();
  if (process.env.BENCH_SNAPSHOT) await b.snapshot?.(process.env.BENCH_SNAPSHOT);
  for (const p of pools) await ask(p, { cmd: 'close' });
  const per = Math.max(connected, 1);
  return {
    connected,
    failed,
    firstError: conns.find((c) => c.firstError)?.firstError,
    setupPerSecond: connected / wallS,
    cpuPerConnectionMs: (cpu1 - cpu0) / per,
    kbPerConnection: (rss1 - rss0) / per,
    baseRssMb: rss0 / 1024,
    heldRssMb: rss1 / 1024,
    heapKbPerConnection:
      heap0 && heap1 ? (heap1.heapUsed - heap0.heapUsed) / 1024 / per : undefined,
    externalKbPerConnection:
      heap0 && heap1 ? (heap1.external - heap0.external) / 1024 / per : undefined,
  };
}

/**
 * QoS 0 then QoS 1, each client process with one publisher and one subscriber on a topic of
 * its own, all processes at once; rates are summed over the processes.
 */
async function flow(b: Broker, tputs: ChildProcess[]): Promise<Flow> {
  log(`${b.name}: QoS 0 and QoS 1, ${MESSAGES} messages each per publisher`);
  const run = (qos: 0 | 1) =>
    Promise.all(
      tputs.map((t) =>
        ask<{ perSecond: number; received: number }>(t, {
          cmd: 'throughput',
          port: b.port,
          qos,
          messages: MESSAGES,
          protocolVersion: PROTOCOL,
        }),
      ),
    );
  const clientsCpu = () => tputs.reduce((a, t) => a + procCpuMs(t.pid!), 0);
  const sum = (rs: { perSecond: number; received: number }[], k: 'perSecond' | 'received') =>
    rs.reduce((a, r) => a + r[k], 0);
  const t0 = await run(0);
  const c1 = procCpuMs(b.pid);
  const k1 = clientsCpu();
  const t1 = await run(1);
  const received1 = sum(t1, 'received');
  return {
    qos0: sum(t0, 'perSecond'),
    qos1: sum(t1, 'perSecond'),
    lost: 2 * MESSAGES * tputs.length - sum(t0, 'received') - received1,
    cpuPer1000Qos1Ms: ((procCpuMs(b.pid) - c1) / received1) * 1000,
    clientCpuPer1000Qos1Ms: ((clientsCpu() - k1) / received1) * 1000,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-bench-mqtt-'));
  const ca = await makeCa();
  const nProcs = Math.max(1, Math.ceil(N / PER_PROCESS));
  const loadStart = loadavg()[0]!;
  console.log(
    `bench/mqtt: ${N} connections from ${nProcs} client processes, ${MESSAGES} messages, ` +
      `MQTT ${PROTOCOL === 5 ? '5' : '3.1.1'}, ${ROUNDS} rounds, ${os.cpus().length} CPUs ` +
      `(${os.cpus()[0]?.model}), Node ${process.version}, load average ${loadStart.toFixed(1)}`,
  );
  const pools: ChildProcess[] = [];
  for (let k = 0; k < nProcs; k++) {
    const p = tsFork('client-process.ts');
    const from = k * PER_PROCESS;
    const to = Math.min(N, from + PER_PROCESS);
    await ask(p, { cmd: 'setup', setup: { ca, from, to, localAddress: `127.0.0.${2 + k}` } });
    pools.push(p);
  }
  const tputs: ChildProcess[] = [];
  for (let k = 0; k < PUBLISHERS; k++) {
    const t = tsFork('client-process.ts');
    const from = N + 10 + 2 * k;
    await ask(t, { cmd: 'setup', setup: { ca, from, to: from + 2, localAddress: '127.0.0.1' } });
    tputs.push(t);
  }

  const starters = [
    ['embedded', () => startEmbedded(ca)],
    ['mosquitto', () => startMosquitto(ca, dir)],
    ['floor', () => startFloor(ca)],
  ] as const;
  const brokers: Broker[] = [];
  for (const [name, start] of starters) if (BROKERS.includes(name)) brokers.push(await start());
  const held = new Map<Broker, Held[]>(brokers.map((b) => [b, []]));
  const flows = new Map<Broker, Flow[]>(brokers.map((b) => [b, []]));
  const loads: number[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      log(`round ${r + 1} of ${ROUNDS}`);
      for (const b of brokers) {
        loads.push(loadavg()[0]!);
        held.get(b)!.push(await holdConnections(b, pools));
        if (b.messages) flows.get(b)!.push(await flow(b, tputs));
      }
    }
  } finally {
    for (const b of brokers) await b.stop();
    for (const p of [...pools, ...tputs]) p.send({ cmd: 'exit' });
    rmSync(dir, { recursive: true, force: true });
  }

  interface Summary {
    name: string;
    messages: boolean;
    first: Held;
    connected: string;
    cpu: number;
    cpuAll: number[];
    setupPerSecond: number;
    qos0?: number;
    qos1?: number;
    lost?: number;
    cpuQos1?: number;
    clientCpuQos1?: number;
  }
  const sums: Summary[] = brokers.map((b) => {
    const h = held.get(b)!;
    const f = flows.get(b)!;
    return {
      name: b.name,
      messages: b.messages,
      first: h[0]!,
      connected: h.map((x) => `${x.connected} (${x.failed})`).join(', '),
      cpu: median(h.map((x) => x.cpuPerConnectionMs)),
      cpuAll: h.map((x) => x.cpuPerConnectionMs),
      setupPerSecond: median(h.map((x) => x.setupPerSecond)),
      qos0: f.length ? median(f.map((x) => x.qos0)) : undefined,
      qos1: f.length ? median(f.map((x) => x.qos1)) : undefined,
      lost: f.length ? f.reduce((a, x) => a + x.lost, 0) : undefined,
      cpuQos1: f.length ? median(f.map((x) => x.cpuPer1000Qos1Ms)) : undefined,
      clientCpuQos1: f.length ? median(f.map((x) => x.clientCpuPer1000Qos1Ms)) : undefined,
    };
  });
  const emb = sums.find((x) => x.name.startsWith('embedded'));
  const mos = sums.find((x) => x.name.startsWith('Mosquitto'));
  const ratio = (f: (x: Summary) => number | undefined) =>
    emb && mos && f(emb) !== undefined && f(mos) ? `${(f(emb)! / f(mos)!).toFixed(2)}×` : '';
  const dash = (v: number | undefined, d = 0) => (v === undefined ? '–' : v.toFixed(d));
  const figures: [string, (x: Summary) => string, string, string][] = [
    ['connections held (failed), per round', (x) => x.connected, '', ''],
    [
      'broker memory per held connection (round 1)',
      (x) => `${x.first.kbPerConnection.toFixed(1)} KB`,
      ratio((x) => x.first.kbPerConnection),
      '≤ 2×',
    ],
    [
      '  of which JS heap / external',
      (x) =>
        x.first.heapKbPerConnection === undefined
          ? '–'
          : `${x.first.heapKbPerConnection.toFixed(1)} / ${x.first.externalKbPerConnection!.toFixed(1)} KB`,
      '',
      '',
    ],
    [
      'broker resident set before / held (round 1)',
      (x) => `${x.first.baseRssMb.toFixed(0)} / ${x.first.heldRssMb.toFixed(0)} MB`,
      '',
      '',
    ],
    [
      'broker CPU per connection setup (median; rounds)',
      (x) => `${x.cpu.toFixed(2)} ms (${x.cpuAll.map((c) => c.toFixed(2)).join(', ')})`,
      ratio((x) => x.cpu),
      '≤ 1.5×',
    ],
    ['connection setups per second (wall)', (x) => x.setupPerSecond.toFixed(0), '', ''],
    ['QoS 0 messages per second (wall)', (x) => dash(x.qos0), ratio((x) => x.qos0), ''],
    ['QoS 1 messages per second (wall)', (x) => dash(x.qos1), ratio((x) => x.qos1), '≥ 1×'],
    ['messages lost, all rounds', (x) => dash(x.lost), '', ''],
    [
      'broker CPU per 1000 QoS 1 messages',
      (x) => (x.cpuQos1 === undefined ? '–' : `${x.cpuQos1.toFixed(1)} ms`),
      ratio((x) => x.cpuQos1),
      '',
    ],
    [
      'client CPU per 1000 QoS 1 messages',
      (x) => (x.clientCpuQos1 === undefined ? '–' : `${x.clientCpuQos1.toFixed(1)} ms`),
      '',
      '',
    ],
  ];
  const header = ['per broker', ...sums.map((x) => x.name), 'embedded ÷ Mosquitto', 'goal'];
  const rows = figures.map(([label, f, r, goal]) => [label, ...sums.map(f), r, goal]);
  for (const row of [header, ...rows])
    console.log(row.map((c, i) => (i === 0 ? c.padEnd(48) : c.padStart(24))).join(''));
  for (const b of brokers) {
    const e = held.get(b)!.find((h) => h.firstError);
    if (e) console.log(`${b.name}: first error: ${e.firstError}`);
  }
  if (!emb || !mos) return; // the docs keep the side-by-side figures only
  /** Share of one core used at `perSecond` messages, from CPU ms per 1000 messages. */
  const core = (msPer1000?: number, perSecond?: number) =>
    msPer1000 === undefined || perSecond === undefined
      ? '?'
      : `${((msPer1000 * perSecond) / 1e4).toFixed(0)}%`;
  await writeSection('mqtt', {
    title: 'MQTT broker (`npm run bench:mqtt`)',
    header,
    rows,
    notes: [
      `\`BENCH_N=${N} BENCH_MESSAGES=${MESSAGES} BENCH_ROUNDS=${ROUNDS} BENCH_PUBLISHERS=${PUBLISHERS}\`, MQTT ${PROTOCOL === 5 ? '5' : '3.1.1'}: ${N} connections from ${nProcs} client process(es), all brokers running at once and measured in turn, ${ROUNDS} rounds; load average ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)} during the rounds.`,
      'CPU and message figures are the medians of the rounds; memory is round 1 (every process fresh).',
      'The TLS floor is the product listener alone (mqtt-listener.ts) answering CONNECT with a fixed CONNACK: what Node TLS costs before aedes.',
      `Which process limits QoS 1: at the rates measured, the embedded broker used ${core(emb.cpuQos1, emb.qos1)} of a core and its client ${core(emb.clientCpuQos1, emb.qos1)}; Mosquitto ${core(mos.cpuQos1, mos.qos1)} and its client ${core(mos.clientCpuQos1, mos.qos1)} (clients: ${PUBLISHERS} mqtt.js process(es), each publishing and subscribing; a Node process does its work on one thread, so near 100% of a core per process it is the limit).`,
    ],
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
