import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** tpm2-abrmd in front of a swtpm, on a private D-Bus session bus of its own. */
export interface TpmResourceManager {
  /** TCTI for tpm2-tools, tpm2-pkcs11 and the tpm2 OpenSSL provider. */
  tcti: string;
  /** What a client process needs in its environment to reach the bus. */
  env: { DBUS_SESSION_BUS_ADDRESS: string };
  stop(): Promise<void>;
}

const exited = (p: ChildProcess) =>
  p.exitCode !== null || p.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => p.once('exit', () => resolve()));

/**
 * Stops a process, and kills it if it has not gone within a second: a tpm2-abrmd that lost (or
 * never reached) its bus hangs in its own shutdown and never answers SIGTERM.
 */
async function terminate(p: ChildProcess): Promise<void> {
  p.kill('SIGTERM');
  const gone = await Promise.race([
    exited(p).then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), 1_000)),
  ]);
  if (!gone) {
    p.kill('SIGKILL');
    await exited(p);
  }
}

/** Resolves once the bus daemon listens (it prints its address then), or rejects. */
function listening(bus: ChildProcess, log: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`dbus-daemon did not start: ${log()}`)),
      30_000,
    );
    bus.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    bus.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`dbus-daemon exited: ${log()}`));
    });
  });
}

/**
 * swtpm has no resource manager: it holds three loaded objects, and an OpenSSL TLS handshake
 * through the tpm2 provider needs more (the key, its duplicated signing context, ...). On a
 * device the kernel's /dev/tpmrm0 virtualises them; in tests tpm2-abrmd does. It keeps the one
 * connection swtpm accepts, so every client must come through it (the returned TCTI).
 */
export async function startTpmResourceManager(swtpmTcti: string): Promise<TpmResourceManager> {
  const dir = mkdtempSync(path.join(tmpdir(), 'trustlink-tabrmd-'));
  const address = `unix:path=${path.join(dir, 'bus')}`;
  let log = '';
  // The resource manager must not start before the bus listens: one that finds no bus never
  // takes its name, never exits, and ignores SIGTERM (seen on every cold first run).
  const bus = spawn(
    'dbus-daemon',
    ['--session', '--nofork', `--address=${address}`, '--print-address=1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  bus.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const env = { DBUS_SESSION_BUS_ADDRESS: address };
  const tcti = 'tabrmd:bus_type=session';
  const withBus = { ...process.env, ...env };
  let abrmd: ChildProcess | undefined;
  const stop = async () => {
    if (abrmd) await terminate(abrmd);
    await terminate(bus);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await listening(bus, () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  for (let attempt = 1; attempt <= 3; attempt++) {
    log += `[attempt ${attempt}]\n`;
    abrmd = spawn(
      'tpm2-abrmd',
      ['--session', `--tcti=${swtpmTcti}`, ...(process.getuid?.() === 0 ? ['--allow-root'] : [])],
      { stdio: ['ignore', 'ignore', 'pipe'], env: withBus },
    );
    abrmd.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    if (await answers(abrmd, withBus, tcti, () => log, Date.now() + 30_000))
      return { tcti, env, stop };
    await terminate(abrmd);
  }
  await stop();
  throw new Error(`tpm2-abrmd did not come up: ${log}`);
}

/** Waits until the resource manager owns its bus name and answers a TPM call, or `deadline`. */
async function answers(
  abrmd: ChildProcess,
  withBus: NodeJS.ProcessEnv,
  tcti: string,
  log: () => string,
  deadline: number,
): Promise<boolean> {
  while (Date.now() < deadline) {
    if (abrmd.exitCode !== null || abrmd.signalCode !== null) return false;
    if (/Failed to acquire DBus name/.test(log())) return false;
    try {
      // Ask the bus first whether the resource manager owns its name yet: a TPM client that
      // asks before then waits out D-Bus's 25 s call timeout.
      const owner = await run(
        'dbus-send',
        [
          '--session',
          '--print-reply',
          '--dest=org.freedesktop.DBus',
          '/org/freedesktop/DBus',
          'org.freedesktop.DBus.NameHasOwner',
          'string:com.intel.tss2.Tabrmd',
        ],
        { env: withBus, timeout: 5_000, killSignal: 'SIGKILL' },
      );
      if (/boolean true/.test(owner.stdout)) {
        await run('tpm2_getcap', ['properties-fixed'], {
          env: { ...withBus, TPM2TOOLS_TCTI: tcti, TSS2_LOG: 'all+NONE' },
          timeout: 15_000,
          killSignal: 'SIGKILL',
        });
        return true;
      }
    } catch {
      // Not yet: asked again below.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
