import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built command, as a device runs it (`npm test` builds first). */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
}

/** A free TCP port on 127.0.0.1 (the platform is restarted on the same one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Writes an agent configuration (and the pinned root) into `dir`; returns the config file. */
export function writeAgentConfig(
  dir: string,
  opts: { platformUrl: string; rootPem: string; keyStore: Record<string, unknown> } & Record<
    string,
    unknown
  >,
): { file: string; stateDir: string; runDir: string; credentialsDir: string } {
  mkdirSync(dir, { recursive: true });
  const { rootPem, ...rest } = opts;
  writeFileSync(path.join(dir, 'root-ca.pem'), rootPem);
  const file = path.join(dir, 'agent.json');
  writeFileSync(
    file,
    JSON.stringify({
      rootCaFile: 'root-ca.pem',
      stateDir: 'state',
      runDir: 'run',
      checkInIntervalSeconds: 2,
      retryInitialSeconds: 0.5,
      retryMaxSeconds: 2,
      ...rest,
    }),
  );
  return {
    file,
    stateDir: path.join(dir, 'state'),
    runDir: path.join(dir, 'run'),
    credentialsDir: path.join(dir, 'run', 'credentials'),
  };
}

/** Runs a short agent command to its end. */
export function agent(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * An agent command that talks to a platform running in this test process: run asynchronously,
 * since a synchronous child would block the very event loop the platform answers on.
 */
export function agentAsync(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `trustlink-agent run` as a daemon, with its standard error kept line by line. */
export interface RunningAgent {
  child: ChildProcess;
  lines: string[];
  /** The next log line (after the one the last call matched) that matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited(timeoutMs?: number): Promise<number | null>;
  stop(): Promise<number | null>;
}

export function startAgent(configFile: string, env: NodeJS.ProcessEnv = {}): RunningAgent {
  const child = spawn(process.execPath, [CLI, 'run', '--config', configFile], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  // Expectations are in order: each wait starts after the line the previous one matched.
  let cursor = 0;
  let partial = '';
  child.stderr!.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    if (process.env.TRUSTLINK_TEST_AGENT_LOG)
      for (const l of parts) process.stderr.write(`agent| ${l}\n`);
    for (const w of waiters) w();
  });
  // 'close', not 'exit': the last log lines may still be on their way when the process ends.
  let closed = false;
  const exit = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      closed = true;
      resolve(code);
    }),
  );
  const exited = (timeoutMs = 30_000) =>
    Promise.race([
      exit,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`agent still running:\n${lines.join('\n')}`)), timeoutMs),
      ),
    ]);
  return {
    child,
    lines,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        // A settled wait must not scan again (its exit callback stays registered): it would
        // move the shared cursor past the lines a later wait is looking for.
        let settled = false;
        const check = () => {
          if (settled) return;
          for (; cursor < lines.length; cursor++) {
            if (pattern.test(lines[cursor]!)) {
              settled = true;
              waiters.delete(check);
              clearTimeout(timer);
              resolve(lines[cursor++]!);
              return;
            }
          }
          if (closed) {
            settled = true;
            waiters.delete(check);
            clearTimeout(timer);
            reject(
              new Error(`agent exited (${child.exitCode}) before ${pattern}:\n${lines.join('\n')}`),
            );
          }
        };
        const timer = setTimeout(() => {
          settled = true;
          waiters.delete(check);
          reject(new Error(`no log line ${pattern} within ${timeoutMs} ms:\n${lines.join('\n')}`));
        }, timeoutMs);
        waiters.add(check);
        void exit.then(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited();
    },
  };
}

/** One request to the agent's local API over its Unix socket. */
export function localApi(
  socketPath: string,
  method: string,
  urlPath: string,
): Promise<{
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json<T = unknown>(): T;
}> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: urlPath }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: () => JSON.parse(text),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** The SPKI (DER) of a PEM certificate file. */
export function certificateSpki(pemFile: string): Buffer {
  return new X509Certificate(readFileSync(pemFile)).publicKey.export({
    type: 'spki',
    format: 'der',
  });
}

/** The SPKI (DER) of a PEM public key. */
export function pemSpki(pem: string): Buffer {
  return createPublicKey(pem).export({ type: 'spki', format: 'der' });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const AGENT_DOC = fileURLToPath(new URL('../../../docs/agent.md', import.meta.url));

/**
 * The ```sh blocks of docs/agent.md between `<!-- name:start -->` and `<!-- name:end -->`:
 * tests run them as written.
 */
export function agentDocBlock(name: string): string {
  const text = readFileSync(AGENT_DOC, 'utf8');
  const start = text.indexOf(`<!-- ${name}:start -->`);
  const end = text.indexOf(`<!-- ${name}:end -->`);
  if (start < 0 || end < start) throw new Error(`docs/agent.md has no ${name}`);
  return [...text.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}
