import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A running swtpm simulator for one test file. */
export interface Swtpm {
  /** TCTI string for tpm2-tools (`swtpm:host=127.0.0.1,port=P`). */
  tcti: string;
  port: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts swtpm on two free consecutive ports (server P, control P+1) with a fresh state
 * directory, already started up (startup-clear), and waits until it accepts connections.
 */
export async function startSwtpm(): Promise<Swtpm> {
  const dir = mkdtempSync(path.join(tmpdir(), 'trustlink-swtpm-'));
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = await freePort();
    if (port >= 65535 || !(await portFree(port + 1))) continue;
    const child = spawn(
      'swtpm',
      [
        'socket',
        '--tpmstate',
        `dir=${dir}`,
        '--tpm2',
        '--server',
        `type=tcp,port=${port},bindaddr=127.0.0.1`,
        '--ctrl',
        `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
        '--flags',
        'not-need-init,startup-clear',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 100 && child.exitCode === null; i++) {
      if (await canConnect(port)) {
        return {
          tcti: `swtpm:host=127.0.0.1,port=${port}`,
          port,
          async stop() {
            child.kill('SIGTERM');
            await exited(child);
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited(child);
    if (!/in use|bind/i.test(stderr)) throw new Error(`swtpm did not start: ${stderr}`);
  }
  throw new Error('swtpm: no free port pair found');
}
