import { X509Certificate } from 'node:crypto';
import tls, { type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { toPem } from '../pki/certificate-builder.js';
import {
  leafFields,
  namesIssuer,
  peerCertificateFromSession,
  subjectRefOf,
  type SubjectRef,
} from './mqtt-peer-fns.js';

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
  /** Its serial (lowercase hex, no leading zeros), when the DER reader could read it. */
  serial?: string;
}

/** A trusted CA, parsed once: finding a client's issuer costs a name comparison, not a parse. */
interface ParsedCa {
  id: string;
  cert: X509Certificate;
  /** Its subject Name and key ID as DER, for the byte comparison; undefined if unreadable. */
  ref: SubjectRef | undefined;
}

function subjectRefOrUndefined(der: Buffer): SubjectRef | undefined {
  try {
    return subjectRefOf(der);
  } catch {
    return undefined;
  }
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
    trusted = cas.map((c) => ({
      id: c.id,
      cert: new X509Certificate(c.der),
      ref: subjectRefOrUndefined(c.der),
    }));
    return {
      cert: opts.certPem,
      key: opts.keyPem,
      ca: cas.map((c) => toPem(c.der)),
      minVersion: 'TLSv1.2',
    };
  }

  /**
   * The client certificate and the trusted CA that issued it. TLS has verified the chain;
   * here the issuer is named among the trusted CAs. The certificate is read from the TLS
   * session (about 20 µs) rather than with `getPeerX509Certificate()` (about 500 µs with
   * Node 20's OpenSSL 3, most of the port's own CPU per connection), and the issuer found by
   * comparing the DER of the issuer Name and key identifier with each CA's. Where that is not
   * conclusive (no key identifiers, no CA or two CAs fitting by bytes), the certificate is
   * parsed and judged as before: by name and key identifier, then by the signature.
   */
  function peerOf(socket: TLSSocket): PeerCertificate {
    const session = socket.getSession();
    const der =
      (session && peerCertificateFromSession(session)) ?? socket.getPeerX509Certificate()?.raw;
    if (!der) throw new Error('no client certificate');
    let fields: ReturnType<typeof leafFields> | undefined;
    try {
      fields = leafFields(der);
    } catch {
      fields = undefined;
    }
    if (fields?.authorityKeyId) {
      const byBytes = trusted.filter((ca) => ca.ref?.subjectKeyId && namesIssuer(fields, ca.ref));
      if (byBytes.length === 1) return { der, issuerId: byBytes[0]!.id, serial: fields.serial };
    }
    const leaf = new X509Certificate(der);
    const fits = trusted.filter((ca) => leaf.checkIssued(ca.cert));
    const issuer = fits.length <= 1 ? fits[0] : fits.find((ca) => leaf.verify(ca.cert.publicKey));
    return { der, issuerId: issuer?.id, serial: fields?.serial };
  }

  /** One handler for every socket, not a closure per held connection. */
  const onSocketError = (err: Error) => opts.log.debug({ err: err.message }, 'mqtt: socket error');

  return {
    async listen(host: string, port: number): Promise<number> {
      const ctx = (await secureContextOptions())!;
      const srv = tls.createServer({ ...ctx, requestCert: true, rejectUnauthorized: true });
      srv.on('secureConnection', (socket: TLSSocket) => {
        // MQTT is request/response: without this, Nagle's algorithm and delayed ACKs hold
        // small packets (PUBACKs, QoS 0 bursts) back by tens of milliseconds.
        socket.setNoDelay(true);
        socket.on('error', onSocketError);
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
