import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls, { type TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { pemToDer, serialOf } from '../pki/cert-fns.js';
import { openssl, scratch } from '../test-helpers/test-openssl.js';
import { createMqttListener, type PeerCertificate } from './mqtt-listener.js';
import {
  leafFields,
  namesIssuer,
  peerCertificateFromSession,
  subjectRefOf,
} from './mqtt-peer-fns.js';

const s = scratch();
afterAll(() => s.remove());
const run = (args: string[]) => {
  const r = openssl(args);
  if (r.status !== 0) throw new Error(r.out);
};
const p256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const caExt = s.file(
  'ca.ext',
  'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n',
);
const leafExt = (aki: boolean) =>
  s.file(
    `leaf-${aki}.ext`,
    `extendedKeyUsage=clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nauthorityKeyIdentifier=${aki ? 'keyid' : 'none'}\n`,
  );

/** A CA made by openssl; two calls with one name make a "renewed" CA with another key. */
function makeCa(file: string, cn: string) {
  run(
    [
      'req',
      '-x509',
      ...p256,
      '-keyout',
      s.file(`${file}.key`, ''),
      '-out',
      s.file(`${file}.pem`, ''),
    ].concat([
      '-subj',
      `/CN=${cn}`,
      '-days',
      '2',
      '-extensions',
      'v3',
      '-config',
      s.file(
        `${file}.cnf`,
        `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${readFileSync(caExt, 'utf8')}`,
      ),
    ]),
  );
  const pem = readFileSync(`${s.dir}/${file}.pem`, 'utf8');
  return { file, pem, der: pemToDer(pem)! };
}
function makeLeaf(file: string, ca: { file: string }, aki: boolean, serial: string) {
  run([
    'req',
    ...p256,
    '-keyout',
    s.file(`${file}.key`, ''),
    '-out',
    s.file(`${file}.csr`, ''),
    '-subj',
    `/CN=${file}`,
  ]);
  run(
    [
      'x509',
      '-req',
      '-in',
      `${s.dir}/${file}.csr`,
      '-CA',
      `${s.dir}/${ca.file}.pem`,
      '-CAkey',
      `${s.dir}/${ca.file}.key`,
    ].concat([
      '-set_serial',
      serial,
      '-days',
      '1',
      '-extfile',
      leafExt(aki),
      '-out',
      s.file(`${file}.pem`, ''),
    ]),
  );
  const pem = readFileSync(`${s.dir}/${file}.pem`, 'utf8');
  return { pem, der: pemToDer(pem)!, key: readFileSync(`${s.dir}/${file}.key`, 'utf8') };
}

const ca = makeCa('ca', 'MQTT test CA');
const renewed = makeCa('renewed', 'MQTT test CA');
const other = makeCa('other', 'Another CA');
const withAki = makeLeaf('with-aki', ca, true, '0x00ab12');
const withoutAki = makeLeaf('without-aki', ca, false, '0x7f01');

/** Opens one mutual-TLS connection and hands the server's socket to `judge`. */
async function onServerSocket<T>(
  leaf: { pem: string; key: string },
  maxVersion: tls.SecureVersion,
  judge: (socket: TLSSocket) => T,
): Promise<T> {
  const srv = tls.createServer({
    cert: withAki.pem,
    key: withAki.key,
    ca: [ca.pem, renewed.pem],
    requestCert: true,
    rejectUnauthorized: true,
    maxVersion,
  });
  try {
    return await new Promise<T>((resolve, reject) => {
      srv.on('secureConnection', (socket) => {
        try {
          resolve(judge(socket));
        } catch (err) {
          reject(err);
        }
        socket.destroy();
      });
      srv.listen(0, '127.0.0.1', () => {
        const c = tls.connect({
          port: (srv.address() as { port: number }).port,
          host: '127.0.0.1',
          ca: ca.pem,
          cert: leaf.pem,
          key: leaf.key,
          rejectUnauthorized: false,
        });
        c.on('error', () => undefined);
      });
    });
  } finally {
    srv.close();
  }
}

describe('client certificate fields for the MQTT port', () => {
  it('ok/the session holds the verified client certificate, TLS 1.2 and 1.3', async () => {
    for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
      const [fromSession, fromTls] = await onServerSocket(withAki, v, (sock) => [
        peerCertificateFromSession(sock.getSession()!),
        sock.getPeerX509Certificate()!.raw,
      ]);
      expect(fromSession?.equals(fromTls), v).toBe(true);
    }
  });

  it('ok/serial and issuer references match what openssl wrote', () => {
    const f = leafFields(withAki.der);
    expect(f.serial).toBe('ab12');
    expect(f.serial).toBe(serialOf(withAki.der));
    const caRef = subjectRefOf(ca.der);
    expect(f.authorityKeyId?.equals(caRef.subjectKeyId!)).toBe(true);
    expect(namesIssuer(f, caRef)).toBe(true);
    expect(namesIssuer(f, subjectRefOf(renewed.der))).toBe(false); // same name, other key ID
    expect(namesIssuer(f, subjectRefOf(other.der))).toBe(false);
    expect(leafFields(withoutAki.der).authorityKeyId).toBeUndefined();
    expect(new X509Certificate(withAki.der).checkIssued(new X509Certificate(ca.der))).toBe(true);
  });

  it('bad/a session without a peer certificate or a malformed one gives undefined', () => {
    expect(peerCertificateFromSession(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]))).toBeUndefined();
    expect(peerCertificateFromSession(Buffer.from('not DER'))).toBeUndefined();
    expect(() => leafFields(Buffer.from([0x30, 0x00]))).toThrow();
  });
});

describe('the MQTT listener names the issuing CA', () => {
  async function peerOf(
    leaf: { pem: string; key: string },
    trust: { id: string; der: Buffer }[],
  ): Promise<PeerCertificate> {
    let resolve!: (p: PeerCertificate) => void;
    let reject!: (err: Error) => void;
    const got = new Promise<PeerCertificate>((res, rej) => ((resolve = res), (reject = rej)));
    const listener = createMqttListener({
      certPem: withAki.pem,
      keyPem: withAki.key,
      loadTrust: async () => trust,
      onConnection: (socket, peer) => {
        socket.destroy();
        resolve(peer);
      },
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined },
    });
    const port = await listener.listen('127.0.0.1', 0);
    const c = tls.connect({
      port,
      host: '127.0.0.1',
      cert: leaf.pem,
      key: leaf.key,
      rejectUnauthorized: false,
    });
    c.on('error', (err) => reject(err));
    c.on('close', () =>
      setTimeout(() => reject(new Error('closed before the listener judged')), 500),
    );
    try {
      return await got;
    } finally {
      c.destroy();
      await listener.close();
    }
  }
  const trust = [
    { id: 'other', der: other.der },
    { id: 'ca', der: ca.der },
    { id: 'renewed', der: renewed.der },
  ];

  it('ok/by key identifier among CAs of one name (the fast path), serial read on the way', async () => {
    const p = await peerOf(withAki, trust);
    expect(p).toMatchObject({ issuerId: 'ca', serial: 'ab12' });
    expect(p.der.equals(withAki.der)).toBe(true);
  });

  it('ok/without key identifiers, by parsing the certificate as before', async () => {
    const p = await peerOf(withoutAki, [trust[0]!, trust[1]!]);
    expect(p).toMatchObject({ issuerId: 'ca', serial: '7f01' });
  });
});
