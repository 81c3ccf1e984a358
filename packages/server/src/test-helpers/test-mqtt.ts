import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import { batchInputSchema } from '../batches/batch-types.js';
import { createDeviceStateRepo } from '../devices/device-state-repo.js';
import { HUB_DEVICE_REVOKED_TOPIC } from '../hubs/hubs-module.js';
import { toPem } from '../pki/certificate-builder.js';
import { policyInput, testCtx } from './test-fleet.js';
import type { TestServer } from './test-server.js';

/** A policy, batch and issuing CA whose devices land on one hub. */
export interface HubFleet {
  hubId: string;
  policyId: string;
  batchId: string;
  issuingCaId: string;
}

/** A device with its key and certificate in files, as mosquitto_pub and mqtt.js want them. */
export interface TestMqttDevice {
  deviceId: string;
  dir: string;
  keyFile: string;
  /** The device certificate followed by its issuing CA. */
  certFile: string;
  certificateId: string;
  keyPem: string;
  certPem: string;
}

function run(cmd: string, args: string[], input?: Buffer | string): Buffer {
  const r = spawnSync(cmd, args, { input });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr?.toString()}`);
  return r.stdout;
}

/** A policy pointing at the hub, a batch of it, and an issuing CA to issue device certificates. */
export async function createHubFleet(server: TestServer, hubId: string): Promise<HubFleet> {
  const i = server.runtime.instance.id;
  const tag = randomBytes(3).toString('hex');
  const policy = await server.runtime.fleet.policies.create(
    i,
    policyInput({ name: `policy ${tag}`, hubId }),
    testCtx,
  );
  const batch = await server.runtime.fleet.batches.create(
    i,
    batchInputSchema.parse({ name: `batch ${tag}`, policyId: policy.id }),
    testCtx,
  );
  const ca = await server.runtime.pkiServices.issuingCas.create(
    i,
    { name: `issuing ${tag}`, lifetimeSeconds: 30 * 24 * 3600 },
    testCtx,
  );
  return { hubId, policyId: policy.id, batchId: batch.id, issuingCaId: ca.id };
}

/**
 * Makes a device the way a production line would (key and CSR with openssl), registers its
 * ID in the batch, issues its certificate through the PKI and marks it enrolled. (Enrolment
 * itself is the enrolment service's work; this reaches the same state.)
 */
export async function enrolMqttDevice(
  server: TestServer,
  fleet: HubFleet,
  opts: { lifetimeSeconds?: number } = {},
): Promise<TestMqttDevice> {
  const i = server.runtime.instance.id;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-mqtt-device-'));
  const keyFile = path.join(dir, 'device.key');
  run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  const spki = run('openssl', ['pkey', '-in', keyFile, '-pubout', '-outform', 'DER']);
  const deviceId = createHash('sha256').update(spki).digest('hex');
  const csrDer = run('openssl', [
    'req',
    '-new',
    '-key',
    keyFile,
    '-subj',
    `/CN=${deviceId}`,
    '-outform',
    'DER',
  ]);
  await server.runtime.fleet.batches.register(i, fleet.batchId, [deviceId], testCtx);
  const cert = await server.runtime.pkiServices.deviceCerts.issueDeviceCertificate({
    instanceId: i,
    issuingCaId: fleet.issuingCaId,
    csrDer,
    deviceId,
    lifetimeSeconds: opts.lifetimeSeconds ?? 24 * 3600,
  });
  await createDeviceStateRepo(server.runtime.db.kysely).markEnrolled(
    i,
    deviceId,
    server.runtime.now().toISOString(),
  );
  const certPem =
    toPem(cert.der) + (await server.runtime.pkiServices.issuingCas.pem(i, cert.issuerId, false));
  const certFile = path.join(dir, 'device.crt');
  writeFileSync(certFile, certPem);
  return {
    deviceId,
    dir,
    keyFile,
    certFile,
    certificateId: cert.id,
    keyPem: readFileSync(keyFile, 'utf8'),
    certPem,
  };
}

/**
 * Revokes a device the way the device revocation service must: in one transaction the
 * certificate is revoked, the device marked revoked and a `hub.device-revoked` outbox entry
 * written; after the commit the `revoked` event is published. `quiet` skips the event and
 * the outbox (a lost message, for the reconcile tests).
 */
export async function revokeMqttDevice(
  server: TestServer,
  device: TestMqttDevice,
  opts: { quiet?: boolean } = {},
): Promise<void> {
  const rt = server.runtime;
  const i = rt.instance.id;
  const states = createDeviceStateRepo(rt.db.kysely);
  await rt.db.kysely.transaction().execute(async (tx) => {
    await rt.pkiServices.deviceCerts.revoke(i, device.certificateId, 'keyCompromise', testCtx, tx);
    await states.markRevoked(i, device.deviceId, rt.now().toISOString(), tx);
    if (!opts.quiet)
      await rt.outbox.enqueue(
        tx,
        {
          instanceId: i,
          topic: HUB_DEVICE_REVOKED_TOPIC,
          subject: `device:${device.deviceId}`,
          payload: { deviceId: device.deviceId },
        },
        rt.now(),
      );
  });
  if (!opts.quiet)
    rt.deviceEvents.emit({
      type: 'revoked',
      instanceId: i,
      deviceId: device.deviceId,
      reason: 'keyCompromise',
    });
}

/** An mqtt.js client with a certificate; resolves when connected, rejects on refusal. */
export function connectMqtt(
  port: number,
  ca: string,
  cred: { certPem: string; keyPem: string },
  opts: IClientOptions = {},
): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({
      protocol: 'mqtts',
      host: '127.0.0.1',
      servername: 'localhost',
      port,
      ca,
      cert: cred.certPem,
      key: cred.keyPem,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      protocolVersion: 4,
      ...opts,
    });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
    c.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}

/** Resolves when the client's connection closes (or rejects after `ms`). */
export function closed(c: MqttClient, ms = 5000): Promise<void> {
  if (!c.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the connection stayed open')), ms);
    c.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/**
 * Subscribes and returns the SUBACK return codes (128 = refused). mqtt.js turns any refusal
 * into an error, so the codes are read from the packet itself.
 */
export function subscribeCodes(c: MqttClient, topics: string[], qos: 0 | 1 = 0): Promise<number[]> {
  return new Promise((resolve) => {
    const onPacket = (p: Packet) => {
      if (p.cmd !== 'suback') return;
      c.off('packetreceive', onPacket);
      // The parser reads the codes as numbers (the type's Object[] is for packets written).
      resolve(p.granted as number[]);
    };
    c.on('packetreceive', onPacket);
    c.subscribe(topics, { qos }, () => undefined);
  });
}

/** Collects messages of a client: topic, payload and the retain flag. */
export function collect(c: MqttClient) {
  const got: { topic: string; payload: string; retain: boolean }[] = [];
  c.on('message', (topic, payload, packet) =>
    got.push({ topic, payload: payload.toString(), retain: packet.retain }),
  );
  return got;
}

/** Polls until `check` is true, or fails after `ms`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  ms = 5000,
  what = 'condition',
) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One run of a mosquitto client program (mosquitto_pub or mosquitto_sub -C n). */
export function mosquittoRun(
  program: 'mosquitto_pub' | 'mosquitto_sub',
  args: string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(program, args, { cwd: opts.cwd });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const t = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 10_000);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

/** A long-running mosquitto_sub (or a shell command running one) with its output lines. */
export function mosquittoSubscriber(
  args: string[] | { shell: string },
  opts: { cwd?: string } = {},
): { proc: ChildProcess; lines: string[]; output: () => string; exited: Promise<number | null> } {
  // Line-buffered, so output arrives while the program runs (a pipe is block-buffered).
  const p = Array.isArray(args)
    ? spawn('stdbuf', ['-oL', 'mosquitto_sub', ...args], { cwd: opts.cwd })
    : spawn('sh', ['-c', `exec stdbuf -oL ${args.shell}`], { cwd: opts.cwd });
  const lines: string[] = [];
  let all = '';
  let partial = '';
  const onData = (d: Buffer) => {
    all += d.toString();
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  };
  p.stdout!.on('data', onData);
  p.stderr!.on('data', (d: Buffer) => (all += d.toString()));
  const exited = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
  return { proc: p, lines, output: () => all, exited };
}

/** Arguments mosquitto_pub/sub need for a TLS connection with a client certificate. */
export function tlsArgs(
  port: number,
  caFile: string,
  cred: { certFile: string; keyFile: string },
  clientId: string,
): string[] {
  return [
    '-h',
    'localhost',
    '-p',
    String(port),
    '--cafile',
    caFile,
    '--cert',
    cred.certFile,
    '--key',
    cred.keyFile,
    '-i',
    clientId,
    '-V',
    'mqttv311',
  ];
}
