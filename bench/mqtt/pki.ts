import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * The bench's own PKI: a CA, a server certificate for 127.0.0.1/localhost and, in each
 * client process, one certificate per connection (all on one client key: the handshake
 * costs the same, and generating thousands of keys is not what is measured).
 */
const crypto = webcrypto;
x509.cryptoProvider.set(crypto);
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const pem = (der: ArrayBuffer, label: string) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END ${label}-----\n`;

export interface BenchCa {
  caPem: string;
  caKeyPkcs8: string;
  serverPem: string;
  serverKeyPem: string;
  clientKeyPem: string;
  clientPublicSpki: string;
}

async function keyPair() {
  return crypto.subtle.generateKey(alg, true, [
    'sign',
    'verify',
  ]) as Promise<webcrypto.CryptoKeyPair>;
}

export async function makeCa(): Promise<BenchCa> {
  const ca = await keyPair();
  const notBefore = new Date(Date.now() - 3600_000);
  const notAfter = new Date(Date.now() + 7 * 24 * 3600_000);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=bench mqtt CA',
    notBefore,
    notAfter,
    keys: ca,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(ca.publicKey),
    ],
  });
  const server = await keyPair();
  const serverCert = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=localhost',
    issuer: caCert.subject,
    notBefore,
    notAfter,
    publicKey: server.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const client = await keyPair();
  return {
    caPem: caCert.toString('pem') + '\n',
    caKeyPkcs8: Buffer.from(await crypto.subtle.exportKey('pkcs8', ca.privateKey)).toString(
      'base64',
    ),
    serverPem: serverCert.toString('pem') + '\n',
    serverKeyPem: pem(await crypto.subtle.exportKey('pkcs8', server.privateKey), 'PRIVATE KEY'),
    clientKeyPem: pem(await crypto.subtle.exportKey('pkcs8', client.privateKey), 'PRIVATE KEY'),
    clientPublicSpki: Buffer.from(await crypto.subtle.exportKey('spki', client.publicKey)).toString(
      'base64',
    ),
  };
}

/** The serial (hex) of client certificate number `n`: the embedded broker's lookup key. */
export const serialOfClient = (n: number) => (0x100000 + n).toString(16);
export const clientIdOf = (n: number) => `dev-${n}`;

/** Client certificates number `from` to `to - 1`, as PEM. */
export async function clientCerts(ca: BenchCa, from: number, to: number): Promise<string[]> {
  const caCert = new x509.X509Certificate(ca.caPem);
  const signingKey = await crypto.subtle.importKey(
    'pkcs8',
    Buffer.from(ca.caKeyPkcs8, 'base64'),
    alg,
    false,
    ['sign'],
  );
  const publicKey = await crypto.subtle.importKey(
    'spki',
    Buffer.from(ca.clientPublicSpki, 'base64'),
    alg,
    true,
    ['verify'],
  );
  // Key identifiers as the product's device certificates carry them (certificate-builder.ts).
  const aki = await x509.AuthorityKeyIdentifierExtension.create(caCert);
  const out: string[] = [];
  const notBefore = new Date(Date.now() - 3600_000);
  const notAfter = new Date(Date.now() + 7 * 24 * 3600_000);
  for (let n = from; n < to; n++) {
    const c = await x509.X509CertificateGenerator.create({
      serialNumber: serialOfClient(n),
      subject: `CN=${clientIdOf(n)}`,
      issuer: caCert.subject,
      notBefore,
      notAfter,
      publicKey,
      signingKey,
      signingAlgorithm: alg,
      extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]), aki],
    });
    out.push(c.toString('pem') + '\n');
  }
  return out;
}
