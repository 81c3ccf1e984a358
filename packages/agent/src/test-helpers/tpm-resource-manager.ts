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
  const abrmd = spawn(
    'tpm2-abrmd',
    ['--session', `--tcti=${swtpmTcti}`, ...(process.getuid?.() === 0 ? ['--allow-root'] : [])],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } },
  );
  abrmd.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const tcti = 'tabrmd:bus_type=session';
  const stop = async () => {
    abrmd.kill('SIGTERM');
    await exited(abrmd);
    bus.kill('SIGTERM');
    await exited(bus);
    rmSync(dir, { recursive: true, force: true });
  };
  const withBus = { ...process.env, ...env };
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (abrmd.exitCode !== null || bus.exitCode !== null) break;
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
        timeout: 30_000,
      });
      if (r.status === 0) return { tcti, env, stop };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`tpm2-abrmd did not come up: ${log}`);
}
