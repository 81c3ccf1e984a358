import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

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
 * swtpm has no resource manager: it holds three loaded objects, and an OpenSSL TLS handshake
 * through the tpm2 provider needs more (the key, its duplicated signing context, ...). On a
 * device the kernel's /dev/tpmrm0 virtualises them; in tests tpm2-abrmd does. It keeps the one
 * connection swtpm accepts, so every client must come through it (the returned TCTI).
 */
export async function startTpmResourceManager(swtpmTcti: string): Promise<TpmResourceManager> {
  const dir = mkdtempSync(path.join(tmpdir(), 'trustlink-tabrmd-'));
  const address = `unix:path=${path.join(dir, 'bus')}`;
  const bus = spawn('dbus-daemon', ['--session', '--nofork', `--address=${address}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  bus.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const env = { DBUS_SESSION_BUS_ADDRESS: address };
  const tcti = 'tabrmd:bus_type=session';
  const withBus = { ...process.env, ...env };
  let abrmd: ChildProcess | undefined;
  const stopAbrmd = async () => {
    if (!abrmd) return;
    abrmd.kill('SIGTERM');
    await exited(abrmd);
  };
  const stop = async () => {
    await stopAbrmd();
    bus.kill('SIGTERM');
    await exited(bus);
    rmSync(dir, { recursive: true, force: true });
  };
  // A resource manager that has not answered within an attempt's time is started again: one
  // was seen (once, in a full suite run) never to come up, while a fresh one does at once.
  for (let attempt = 1; attempt <= 3; attempt++) {
    log += `[attempt ${attempt}]\n`;
    abrmd = spawn(
      'tpm2-abrmd',
      ['--session', `--tcti=${swtpmTcti}`, ...(process.getuid?.() === 0 ? ['--allow-root'] : [])],
      { stdio: ['ignore', 'ignore', 'pipe'], env: withBus },
    );
    abrmd.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    if (await answers(abrmd, bus, withBus, tcti, Date.now() + 30_000)) return { tcti, env, stop };
    await stopAbrmd();
  }
  await stop();
  throw new Error(`tpm2-abrmd did not come up: ${log}`);
}

/** Waits until the resource manager owns its bus name and answers a TPM call, or `deadline`. */
async function answers(
  abrmd: ChildProcess,
  bus: ChildProcess,
  withBus: NodeJS.ProcessEnv,
  tcti: string,
  deadline: number,
): Promise<boolean> {
  while (Date.now() < deadline) {
    if (abrmd.exitCode !== null || bus.exitCode !== null) return false;
    // Ask the bus first whether the resource manager owns its name yet: a TPM client that asks
    // before then waits out D-Bus's 25 s call timeout, which on a busy machine adds up.
    const owner = spawnSync(
      'dbus-send',
      [
        '--session',
        '--print-reply',
        '--dest=org.freedesktop.DBus',
        '/org/freedesktop/DBus',
        'org.freedesktop.DBus.NameHasOwner',
        'string:com.intel.tss2.Tabrmd',
      ],
      { env: withBus, encoding: 'utf8', timeout: 5_000 },
    );
    if (owner.status === 0 && /boolean true/.test(owner.stdout)) {
      const r = spawnSync('tpm2_getcap', ['properties-fixed'], {
        env: { ...withBus, TPM2TOOLS_TCTI: tcti, TSS2_LOG: 'all+NONE' },
        stdio: 'ignore',
        timeout: 15_000,
      });
      if (r.status === 0) return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
