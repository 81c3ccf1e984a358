import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eventually } from './test-mqtt.js';

/** A free TCP port on the loopback address. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** The broker operator's own CA and a server certificate for 127.0.0.1 and localhost. */
export function brokerCertificates(dir: string): { caPem: string; cert: string; key: string } {
  const f = (n: string) => path.join(dir, n);
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args);
    if (r.status !== 0) throw new Error(r.stderr.toString());
  };
  const p256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run([
    'req',
    '-x509',
    ...p256,
    '-keyout',
    f('broker-ca.key'),
    '-out',
    f('broker-ca.pem'),
    '-subj',
    '/CN=Broker operator CA',
    '-days',
    '2',
    '-addext',
    'basicConstraints=critical,CA:true',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  run([
    'req',
    ...p256,
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
    '-subj',
    '/CN=localhost',
  ]);
  writeFileSync(
    f('ext.cnf'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  run([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('broker-ca.pem'),
    '-CAkey',
    f('broker-ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.pem'),
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
  ]);
  return {
    caPem: readFileSync(f('broker-ca.pem'), 'utf8'),
    cert: f('server.pem'),
    key: f('server.key'),
  };
}

/**
 * Starts Mosquitto the way docs/mqtt.md tells operators to configure it for a managed hub: the
 * platform's files in `managedDir`, the operator's server certificate, certificate usernames.
 */
export async function startMosquitto(opts: {
  port: number;
  managedDir: string;
  server: { cert: string; key: string };
  confDir: string;
}) {
  const m = (n: string) => path.join(opts.managedDir, n);
  const conf = path.join(opts.confDir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      'per_listener_settings false',
      `pid_file ${m('mosquitto.pid')}`,
      'persistence false',
      `user ${os.userInfo().username}`,
      'log_dest stdout',
      'log_type error',
      'log_type warning',
      'log_type notice',
      `listener ${opts.port} 127.0.0.1`,
      `certfile ${opts.server.cert}`,
      `keyfile ${opts.server.key}`,
      `cafile ${m('trustlink-ca.pem')}`,
      `crlfile ${m('trustlink-crl.pem')}`,
      'require_certificate true',
      'use_identity_as_username true',
      `acl_file ${m('trustlink.acl')}`,
      '',
    ].join('\n'),
  );
  const proc = spawn('mosquitto', ['-c', conf]);
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  await eventually(
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect(opts.port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      }),
    5000,
    'mosquitto to listen',
  ).catch((err: Error) => {
    proc.kill();
    throw new Error(`${err.message}: ${log}`);
  });
  return {
    log: () => log,
    /** Stops this Mosquitto (its own process only) and waits for it to exit. */
    async stop() {
      if (proc.exitCode === null) proc.kill();
      await exited;
    },
  };
}
