/**
 * The floor under the embedded broker: the product's MQTT TLS listener (mqtt-listener.ts: the
 * same TLS options, client certificate check and issuer lookup) with no MQTT behind it. Each
 * connection's CONNECT is answered with a fixed CONNACK and the connection is then only held,
 * so its memory and CPU are what Node's TLS and the listener cost before aedes and the hub
 * routing add theirs. Not a broker: it reads nothing else. Driven over IPC by run.ts.
 */
import type { TLSSocket } from 'node:tls';
import { createMqttListener } from '../../packages/server/src/mqtt/mqtt-listener.js';
import { X509Certificate } from 'node:crypto';

interface Start {
  caPem: string;
  serverPem: string;
  serverKeyPem: string;
  protocolVersion: 4 | 5;
}

/** CONNACK, session not present, accepted: MQTT 3.1.1 (§3.2) and MQTT 5 (no properties). */
const CONNACK = {
  4: Buffer.from([0x20, 0x02, 0x00, 0x00]),
  5: Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]),
};

process.once('message', async (start: Start) => {
  const held = new Set<TLSSocket>();
  const listener = createMqttListener({
    certPem: start.serverPem,
    keyPem: start.serverKeyPem,
    loadTrust: async () => [{ id: 'bench-ca', der: new X509Certificate(start.caPem).raw }],
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined },
    onConnection: (socket) => {
      held.add(socket);
      socket.once('data', () => socket.write(CONNACK[start.protocolVersion]));
      socket.on('data', () => undefined);
      socket.once('close', () => held.delete(socket));
    },
  });
  const port = await listener.listen('127.0.0.1', 0);
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'gc') {
      for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.();
      process.send!({ cmd: 'gc' });
    } else if (m.cmd === 'mem') {
      process.send!({ cmd: 'mem', ...process.memoryUsage() });
    } else if (m.cmd === 'stop') {
      for (const s of held) s.destroy();
      void listener.close().then(() => process.exit(0));
    }
  });
  process.send!({ cmd: 'ready', port });
});
