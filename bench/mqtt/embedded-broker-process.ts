/**
 * The embedded broker under test, in its own process (so its memory and CPU are its own):
 * the product's TLS listener, hub routing and per-hub aedes, with the certificate lookup
 * answered from memory instead of the database (the lookup's database cost is not what this
 * bench measures). Driven over IPC by run.ts.
 */
import { X509Certificate } from 'node:crypto';
import { writeHeapSnapshot } from 'node:v8';
import pino from 'pino';
import { createEmbeddedBroker } from '../../packages/server/src/mqtt/embedded-broker.js';
import type { HubDirectory } from '../../packages/server/src/hubs/hub-directory.js';
import type { StoredHub } from '../../packages/server/src/hubs/hub-repo.js';
import { clientIdOf } from './pki.js';

interface Start {
  caPem: string;
  serverPem: string;
  serverKeyPem: string;
}

const INSTANCE = 'bench';
const hub: StoredHub = {
  id: 'bench-hub',
  name: 'bench',
  type: 'mqtt',
  settings: { rules: { device: { publish: ['bench/#'], subscribe: ['bench/#'] } } },
  toolsCaId: null,
  createdAt: '',
  updatedAt: '',
  sealedSecrets: Buffer.alloc(0),
  platformKeyId: null,
  platformCertificateId: null,
};

process.once('message', async (start: Start) => {
  const caDer = new X509Certificate(start.caPem).raw;
  const directory = {
    async resolveCertificate(instanceId: string, _issuer: string, serial: string) {
      const n = parseInt(serial, 16) - 0x100000;
      return {
        ok: true as const,
        hub,
        client: {
          instanceId,
          kind: 'device' as const,
          clientId: clientIdOf(n),
          subjectId: clientIdOf(n),
          hubId: hub.id,
          certificateId: serial,
          notAfter: '9999-12-31T00:00:00Z',
        },
      };
    },
    async stale() {
      return new Map();
    },
  } as unknown as HubDirectory;
  const broker = createEmbeddedBroker({
    directory,
    trustedCas: async () => [{ id: 'bench-ca', der: caDer }],
    findHub: async () => hub,
    instanceId: INSTANCE,
    log: pino({ level: 'warn' }),
    reconcileMs: 3600_000,
  });
  const port = await broker.listen('127.0.0.1', 0, {
    certPem: start.serverPem,
    keyPem: start.serverKeyPem,
  });
  process.on('message', async (m: { cmd: string }) => {
    if (m.cmd === 'gc') {
      for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.();
      process.send!({ cmd: 'gc' });
    } else if (m.cmd === 'snapshot') {
      const file = writeHeapSnapshot((m as unknown as { file: string }).file);
      process.send!({ cmd: 'snapshot', file });
    } else if (m.cmd === 'mem') {
      process.send!({ cmd: 'mem', ...process.memoryUsage() });
    } else if (m.cmd === 'connections') {
      process.send!({ cmd: 'connections', n: await broker.connections(INSTANCE, hub.id) });
    } else if (m.cmd === 'stop') {
      await broker.close();
      process.exit(0);
    }
  });
  process.send!({ cmd: 'ready', port });
});
