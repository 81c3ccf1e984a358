/**
 * bench/firmware: many devices downloading one update image at once over TLS, each with its
 * own client certificate and two range requests (first half, then the rest, as a resumed
 * download), from the Trustlink device port and from nginx serving the same file with TLS
 * client verification against the same CAs, in the same run. Prints MB/s and server CPU
 * seconds per GB for each, rounds interleaved, the best of the rounds for each figure.
 *
 *   npm run bench:firmware        (BENCH_DEVICES=50, BENCH_SIZE_MIB=8, BENCH_ROUNDS=3)
 *
 * The server runs in its own process (bench/firmware/fixture.ts) and nginx with one worker, so
 * each one's CPU time is read from /proc alone; the load generator is this process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import type { TLSSocket } from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSection } from '../bench-report.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const SIZE = Math.round(Number(process.env.BENCH_SIZE_MIB ?? 8) * 1024 * 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const here = path.dirname(fileURLToPath(import.meta.url));

interface Fixture {
  pid: number;
  port: number;
  rootPem: string;
  caBundlePem: string;
  updateId: string;
  imagePath: string;
  size: number;
  devices: { cert: string; key: string }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * CPU seconds of a process, all its threads: the scheduler's on-CPU time in nanoseconds
 * (/proc/<pid>/task/<tid>/schedstat, user and system together). utime/stime in /proc/<pid>/stat
 * count in clock ticks (10 ms here), too coarse for rounds of a few hundred megabytes.
 */
function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return ns / 1e9;
}

/** A process and its direct children (nginx: master and workers). */
function familyCpu(pid: number): number {
  let total = cpuSeconds(pid);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === pid) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) total += cpuSeconds(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}

async function startFixture(
  dir: string,
  fixture: string,
  name: string,
): Promise<{ child: ChildProcess; fx: Fixture }> {
  const out = path.join(dir, `${name}.json`);
  const child = spawn(
    process.execPath,
    [
      // BENCH_PROFILE=<dir>: a V8 CPU profile of the server, to see where its time goes.
      ...(process.env.BENCH_PROFILE
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE]
        : []),
      ...['--import', 'tsx', fixture, String(DEVICES), String(SIZE), out],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  for (let i = 0; i < 1200 && !existsSync(out); i++) {
    if (child.exitCode !== null) throw new Error('the fixture exited');
    await sleep(250);
  }
  return { child, fx: JSON.parse(readFileSync(out, 'utf8')) as Fixture };
}

async function startNginx(
  dir: string,
  fx: Fixture,
): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
      ...['-keyout', path.join(dir, 'nginx.key'), '-out', path.join(dir, 'nginx.pem')],
      ...['-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'],
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(path.join(dir, 'ca.pem'), fx.caBundlePem);
  const conf = `
user root;
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${dir}/nginx.pem;
    ssl_certificate_key ${dir}/nginx.key;
    ssl_client_certificate ${dir}/ca.pem;
    ssl_verify_client on;
    ssl_verify_depth 3;
    # nginx 1.22 leaves TLS 1.3 out by default; with it both servers negotiate the same
    # protocol and suite (TLS 1.3, AES-256-GCM, printed by the run) and 16 KiB records
    # (nginx's ssl_buffer_size, OpenSSL's maximum, which Node writes).
    ssl_protocols TLSv1.2 TLSv1.3;
    location = /device/v1/updates/${fx.updateId}/image {
      alias ${fx.imagePath};
      default_type application/octet-stream;
    }
  }
}
`;
  writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    if (existsSync(path.join(dir, 'nginx.pid'))) break;
    await sleep(100);
  }
  await sleep(300);
  return { child, port };
}

/** The protocol and cipher suite each server negotiated, to show the comparison is fair. */
const tlsSeen = new Map<number, string>();

/** Every device downloads the image in two ranges over one kept-alive connection. */
async function load(
  port: number,
  fx: Fixture,
  ca: string,
): Promise<{ bytes: number; wall: number }> {
  const half = Math.floor(fx.size / 2);
  let bytes = 0;
  const get = (agent: https.Agent, d: Fixture['devices'][number], range: string) =>
    new Promise<void>((resolve, reject) => {
      const req = https.get(
        {
          host: '127.0.0.1',
          port,
          servername: 'localhost',
          path: `/device/v1/updates/${fx.updateId}/image`,
          ca,
          cert: d.cert,
          key: d.key,
          agent,
          headers: { range },
        },
        (res) => {
          if (!tlsSeen.has(port)) {
            const s = res.socket as TLSSocket;
            const cert = s.getPeerCertificate();
            const key = cert.asn1Curve ?? `RSA-${cert.bits}`;
            const kx = (s.getEphemeralKeyInfo() as { name?: string }).name;
            tlsSeen.set(port, `${s.getProtocol()} ${s.getCipher().standardName} ${kx}, ${key} key`);
          }
          if (res.statusCode !== 206) reject(new Error(`status ${res.statusCode}`));
          res.on('data', (c: Buffer) => (bytes += c.length));
          res.on('end', resolve);
          res.on('error', reject);
        },
      );
      req.on('error', reject);
    });
  const t0 = performance.now();
  await Promise.all(
    fx.devices.map(async (d) => {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      await get(agent, d, `bytes=0-${half - 1}`);
      await get(agent, d, `bytes=${half}-`);
      agent.destroy();
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  if (bytes !== fx.size * fx.devices.length) throw new Error(`got ${bytes} bytes`);
  return { bytes, wall };
}

interface Result {
  mbPerSecond: number;
  cpuPerGb: number;
}

/** CPU seconds per thread (main, libuv pool, V8 helpers...), for BENCH_THREADS=1. */
function threadCpu(pid: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ns = Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      m.set(`${name}/${t}`, ns / 1e9);
    } catch {
      /* gone meanwhile */
    }
  }
  return m;
}

async function measure(
  pid: number,
  run: () => Promise<{ bytes: number; wall: number }>,
): Promise<Result> {
  const before = familyCpu(pid);
  const threadsBefore = process.env.BENCH_THREADS ? threadCpu(pid) : undefined;
  const loadBefore = cpuSeconds(process.pid);
  const { bytes, wall } = await run();
  const cpu = familyCpu(pid) - before;
  if (threadsBefore) {
    const parts = [...threadCpu(pid)]
      .filter(([n, s]) => s - (threadsBefore.get(n) ?? 0) > 0)
      .map(([name, s]) => `${name} ${(s - (threadsBefore.get(name) ?? 0)).toFixed(2)}`);
    // The load generator's own CPU in the same round: when it is near the wall time, it (not
    // the server) bounds the throughput.
    const load = cpuSeconds(process.pid) - loadBefore;
    process.stderr.write(
      `  threads (CPU-s): ${parts.join(', ')}; load generator ${load.toFixed(2)} in ${wall.toFixed(2)} s\n`,
    );
  }
  return { mbPerSecond: bytes / 1e6 / wall, cpuPerGb: cpu / (bytes / 1e9) };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-bench-fw-'));
  process.stderr.write(
    `fixture: ${DEVICES} devices, ${(SIZE / 1024 ** 2).toFixed(1)} MiB image...\n`,
  );
  // BENCH_BASELINE=<directory holding another checkout of the repository, with node_modules>:
  // its server code measured too, in the same rounds (with this fixture copied into it), so a
  // change is shown before and after under the same load.
  const baseline = process.env.BENCH_BASELINE;
  const servers: { name: string; pid: number; port: number; ca: string; fx: Fixture }[] = [];
  const children: ChildProcess[] = [];
  const fixtures: [string, string][] = [['trustlink', path.join(here, 'fixture.ts')]];
  if (baseline) {
    const copy = path.join(baseline, 'bench', 'firmware', 'fixture.ts');
    writeFileSync(copy, readFileSync(path.join(here, 'fixture.ts')));
    fixtures.push(['baseline', copy]);
  }
  for (const [name, file] of fixtures) {
    const { child, fx } = await startFixture(dir, file, name);
    children.push(child);
    servers.push({ name, pid: fx.pid, port: fx.port, ca: fx.rootPem, fx });
  }
  const fx = servers[0]!.fx;
  const nginx = await startNginx(dir, fx);
  children.push(nginx.child);
  const nginxPid = Number(readFileSync(path.join(dir, 'nginx.pid'), 'utf8').trim());
  servers.push({
    name: 'nginx',
    pid: nginxPid,
    port: nginx.port,
    ca: readFileSync(path.join(dir, 'nginx.pem'), 'utf8'),
    fx,
  });
  const best = new Map<string, Result>();
  // Best of the rounds for each figure on its own: the machine's other load only ever slows
  // a round down or bills it more CPU, never the reverse.
  const keep = (a: Result | undefined, b: Result): Result =>
    !a
      ? b
      : {
          mbPerSecond: Math.max(a.mbPerSecond, b.mbPerSecond),
          cpuPerGb: Math.min(a.cpuPerGb, b.cpuPerGb),
        };
  try {
    // A warm-up of each, then interleaved rounds.
    for (const sv of servers) await load(sv.port, sv.fx, sv.ca);
    for (let r = 1; r <= ROUNDS; r++) {
      const line: string[] = [];
      for (const sv of servers) {
        const m = await measure(sv.pid, () => load(sv.port, sv.fx, sv.ca));
        line.push(`${sv.name} ${m.mbPerSecond.toFixed(0)} MB/s ${m.cpuPerGb.toFixed(2)} CPU-s/GB`);
        best.set(sv.name, keep(best.get(sv.name), m));
      }
      process.stderr.write(`round ${r}: ${line.join('; ')}\n`);
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await sleep(500);
    rmSync(dir, { recursive: true, force: true });
  }
  const t = best.get('trustlink')!;
  const n = best.get('nginx')!;
  const tls = servers
    .filter((sv) => sv.name !== 'baseline')
    .map((sv) => `${sv.name} ${tlsSeen.get(sv.port)}`)
    .join('; ');
  const ratios = `throughput ${(t.mbPerSecond / n.mbPerSecond).toFixed(2)}x nginx (goal >= 0.95), CPU per GB ${(t.cpuPerGb / n.cpuPerGb).toFixed(2)}x nginx (goal <= 1.5)`;
  const rows = servers.map((sv) => {
    const b = best.get(sv.name)!;
    return [
      sv.name === 'baseline'
        ? 'Trustlink before (BENCH_BASELINE)'
        : sv.name === 'nginx'
          ? 'nginx'
          : 'Trustlink',
      b.mbPerSecond.toFixed(0),
      b.cpuPerGb.toFixed(2),
      (b.mbPerSecond / n.mbPerSecond).toFixed(2),
      (b.cpuPerGb / n.cpuPerGb).toFixed(2),
    ];
  });
  console.log(`TLS: ${tls}`);
  console.log(
    `machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)}`,
  );
  console.log(
    `${DEVICES} devices x ${(SIZE / 1024 ** 2).toFixed(1)} MiB, 2 range requests each, TLS client certificates`,
  );
  for (const r of rows)
    console.log(`  ${r[0]!.padEnd(34)} ${r[1]!.padStart(6)} MB/s ${r[2]!.padStart(6)} CPU-s/GB`);
  console.log(ratios);
  await writeSection('firmware', {
    title: 'Firmware downloads (`npm run bench:firmware`)',
    header: ['server', 'MB/s', 'CPU-s per GB', 'throughput ÷ nginx', 'CPU per GB ÷ nginx'],
    rows,
    notes: [
      `${DEVICES} devices × ${(SIZE / 1024 ** 2).toFixed(1)} MiB, two range requests each on one kept-alive connection, TLS client certificates; best of ${ROUNDS} interleaved rounds per figure.`,
      `TLS negotiated: ${tls}.`,
      `Trustlink sends the image from memory (\`firmwareCacheBytes\`, loaded during the warm-up) and writes it to the connection in 256 KiB views; nginx reads it from the page cache (\`sendfile\` does not apply under TLS).`,
      `Goal: throughput ≥ 0.95× nginx, CPU per GB ≤ 1.5× nginx.`,
    ],
  });
}

await main();
