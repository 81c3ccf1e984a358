/**
 * The processes a run measures: each is spawned on its own, and its CPU time (user + system,
 * from /proc/<pid>/stat) is read before and after a phase, so the figure is the server's own
 * work, not the load generator's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux on every architecture). */
const USER_HZ = 100;

/** CPU milliseconds (user + system) a process has used so far. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / USER_HZ;
}

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** Whatever it wrote to standard error (for failures). */
  stderr(): string;
  stop(): Promise<void>;
}

/** Spawns a process and waits until `ready` succeeds (polled), or it exits. */
export async function spawnServer(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  ready: () => Promise<boolean>,
): Promise<Spawned> {
  const child = spawn(cmd, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-8000)));
  child.stdout!.on('data', () => {});
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => (dead = true));
  for (let i = 0; i < 600; i++) {
    if (dead) throw new Error(`${cmd} exited: ${err}`);
    if (await ready().catch(() => false)) break;
    if (i === 599) throw new Error(`${cmd} did not become ready: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    pid: child.pid!,
    stderr: () => err,
    async stop() {
      if (!dead) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Whether a TLS handshake with a listener succeeds. */
export function tlsUp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Whether a plain TCP listener accepts. */
export function tcpUp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/**
 * The reference: a Node TLS server that asks for a client certificate (accepting any, as the
 * device port does) and does nothing after the handshake but answer one byte and close.
 */
export const BARE_TLS_SERVER = `
const tls = require('node:tls');
const fs = require('node:fs');
const s = tls.createServer({
  key: fs.readFileSync(process.env.KEY), cert: fs.readFileSync(process.env.CERT),
  requestCert: true, rejectUnauthorized: false,
}, (sock) => { sock.getPeerCertificate(); sock.end('k'); });
s.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * The check-in reference: a Node HTTPS server (client certificate requested, as on the device
 * port) answering every request with a 304 and an ETag, doing nothing else.
 */
export const BARE_HTTPS_SERVER = `
const https = require('node:https');
const fs = require('node:fs');
const s = https.createServer({
  key: fs.readFileSync(process.env.KEY), cert: fs.readFileSync(process.env.CERT),
  requestCert: true, rejectUnauthorized: false,
}, (req, res) => { res.writeHead(304, { etag: '"x"', 'cache-control': 'no-cache' }); res.end(); });
s.keepAliveTimeout = 72000;
s.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

/** Runs `count` jobs with at most `concurrency` in flight; the latency of each in ms. */
export async function pool(
  count: number,
  concurrency: number,
  job: (i: number) => Promise<void>,
): Promise<number[]> {
  const latencies = new Array<number>(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      await job(i);
      latencies[i] = performance.now() - t0;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return latencies;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
