import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openssl, scratch } from './test-openssl.js';
import type { TestDevice } from './test-devices.js';

/** A CA made with openssl, as a device maker's factory CA would be. */
export interface FactoryCa {
  name: string;
  keyPath: string;
  certPath: string;
  pem: string;
}

function run(args: string[]): void {
  const r = openssl(args);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.out}`);
}

const serial = () => `0x${randomBytes(12).toString('hex')}`;

/**
 * A factory PKI built with the openssl command line: root CAs, intermediates, and device
 * certificates for keys made elsewhere (the devices' own keys), so nothing of ours signs them.
 */
export function factoryPki() {
  const s = scratch();
  const ext = (name: string, lines: string[]) => s.file(`${name}.ext`, lines.join('\n') + '\n');
  const caExt = ext('ca', [
    'basicConstraints=critical,CA:TRUE',
    'keyUsage=critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
  ]);
  const leafExt = ext('leaf', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
  ]);
  const newKeyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

  function root(name: string): FactoryCa {
    const keyPath = `${s.dir}/${name}.key`;
    const certPath = `${s.dir}/${name}.pem`;
    run([
      'req',
      '-x509',
      ...newKeyArgs,
      '-keyout',
      keyPath,
      '-subj',
      `/O=Factory/CN=${name}`,
      '-days',
      '3650',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      certPath,
    ]);
    return { name, keyPath, certPath, pem: readFileSync(certPath, 'utf8') };
  }

  function intermediate(parent: FactoryCa, name: string): FactoryCa {
    const keyPath = `${s.dir}/${name}.key`;
    const csr = `${s.dir}/${name}.csr`;
    const certPath = `${s.dir}/${name}.pem`;
    run([
      'req',
      '-new',
      ...newKeyArgs,
      '-keyout',
      keyPath,
      '-subj',
      `/O=Factory/CN=${name}`,
      '-out',
      csr,
    ]);
    run([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      parent.certPath,
      '-CAkey',
      parent.keyPath,
      '-set_serial',
      serial(),
      '-days',
      '3650',
      '-extfile',
      caExt,
      '-out',
      certPath,
    ]);
    return { name, keyPath, certPath, pem: readFileSync(certPath, 'utf8') };
  }

  /** A factory certificate for the device's own key, signed by `ca` (PEM). */
  function deviceCertificate(ca: FactoryCa, d: TestDevice, days = 3650): string {
    const id = randomBytes(4).toString('hex');
    const keyPath = s.file(`dev-${id}.key`, d.keyPem);
    const csr = `${s.dir}/dev-${id}.csr`;
    const certPath = `${s.dir}/dev-${id}.pem`;
    run([
      'req',
      '-new',
      '-key',
      keyPath,
      '-subj',
      `/O=Factory/CN=secure element ${id}`,
      '-out',
      csr,
    ]);
    run([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.certPath,
      '-CAkey',
      ca.keyPath,
      '-set_serial',
      serial(),
      '-days',
      String(days),
      '-extfile',
      leafExt,
      '-out',
      certPath,
    ]);
    return readFileSync(certPath, 'utf8');
  }

  return { root, intermediate, deviceCertificate, remove: s.remove };
}
