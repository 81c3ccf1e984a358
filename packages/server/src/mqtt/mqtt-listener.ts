import { X509Certificate } from 'node:crypto';
import tls, { type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { toPem } from '../pki/certificate-builder.js';

/** A CA whose certificates the listener accepts, as the database holds it. */
export interface TrustedCa {
  id: string;
  der: Buffer;
}

/** What the TLS layer proved about a client: its verified certificate and its issuer. */
export interface PeerCertificate {
  der: Buffer;
  /** The CA (by id) that issued it, from the verified chain. */
  issuerId: string | undefined;
}

/** A trusted CA, parsed once: finding a client's issuer costs a name comparison, not a parse. */
interface ParsedCa {
  id: string;
  cert: X509Certificate;
}

/**
 * The MQTT TLS port: requires a client certificate that chains to one of the instance's CAs
 * (root and issuing CAs), so expired, foreign or self-signed certificates never reach MQTT.
 * The trusted set is replaced without a restart when CAs are added.
 */
export function createMqttListener(opts: {
  certPem: string;
  keyPem: string;
  loadTrust: () => Promise<TrustedCa[]>;
  onConnection: (socket: TLSSocket, peer: PeerCertificate) => void;
  log: Pick<Logger, 'debug' | 'info' | 'warn'>;
}) {
  let server: tls.Server | undefined;
  let trusted: ParsedCa[] = [];
  let trustKey = '';

  async function secureContextOptions(): Promise<tls.SecureContextOptions | undefined> {
    const cas = await opts.loadTrust();
    const key = cas
      .map((c) => c.id)
      .sort()
      .join(',');
    if (key === trustKey) return undefined;
    trustKey = key;
    trusted = cas.map((c) => ({ id: c.id, cert: new X509Certificate(c.der) }));
    return {
      cert: opts.certPem,
      key: opts.keyPem,
      ca: cas.map((c) => toPem(c.der)),
      minVersion: 'TLSv1.2',
    };
  }

  /**
   * The client certificate and the trusted CA that issued it. TLS has verified the chain;
   * here the issuer is named among the trusted CAs by name and key identifier, and, where
   * two CAs would fit (a renewed CA with the same name and no key identifiers), by the
   * signature. Cheaper than `getPeerCertificate(true)`, which turns every certificate of the
   * chain into a JavaScript object on each connection.
   */
  function peerOf(socket: TLSSocket): PeerCertificate {
    const leaf = socket.getPeerX509Certificate();
    if (!leaf) throw new Error('no client certificate');
    const fits = trusted.filter((ca) => leaf.checkIssued(ca.cert));
    const issuer = fits.length <= 1 ? fits[0] : fits.find((ca) => leaf.verify(ca.cert.publicKey));
    return { der: leaf.raw, issuerId: issuer?.id };
  }

  return {
    async listen(host: string, port: number): Promise<number> {
      const ctx = (await secureContextOptions())!;
      const srv = tls.createServer({ ...ctx, requestCert: true, rejectUnauthorized: true });
      srv.on('secureConnection', (socket: TLSSocket) => {
        // MQTT is request/response: without this, Nagle's algorithm and delayed ACKs hold
        // small packets (PUBACKs, QoS 0 bursts) back by tens of milliseconds.
        socket.setNoDelay(true);
        socket.on('error', (err) => opts.log.debug({ err: err.message }, 'mqtt: socket error'));
        let peer: PeerCertificate;
        try {
          peer = peerOf(socket);
        } catch (err) {
          opts.log.info({ err: (err as Error).message }, 'mqtt: unreadable client certificate');
          socket.destroy();
          return;
        }
        opts.onConnection(socket, peer);
      });
      // Node reports a refused client certificate only as a reset connection, without the
      // verification error; the log says that much.
      srv.on('tlsClientError', (err: NodeJS.ErrnoException) =>
        opts.log.info({ err: err.message, code: err.code }, 'mqtt: TLS handshake failed'),
      );
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ host, port }, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      server = srv;
      const addr = srv.address();
      return typeof addr === 'object' && addr ? addr.port : port;
    },
    /** Re-reads the trusted CAs; new connections use the new set. Returns whether it changed. */
    async reloadTrust(): Promise<boolean> {
      const ctx = await secureContextOptions();
      if (!ctx || !server) return false;
      server.setSecureContext(ctx);
      opts.log.info({ cas: trusted.length }, 'mqtt: trusted CAs reloaded');
      return true;
    },
    get listening(): boolean {
      return server?.listening ?? false;
    },
    async close(): Promise<void> {
      const srv = server;
      server = undefined;
      if (!srv) return;
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}
export type MqttListener = ReturnType<typeof createMqttListener>;
