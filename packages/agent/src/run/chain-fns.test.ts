import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkChainToRoot } from './chain-fns.js';

const dir = mkdtempSync(path.join(tmpdir(), 'trustlink-chain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const f = (n: string) => path.join(dir, n);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA (self-signed when `issuer` is unset) or a leaf for `host`, made with openssl. */
function make(name: string, opts: { issuer?: string; ca?: boolean; host?: string }) {
  openssl(
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    f(`${name}.key`),
  );
  const ext = opts.ca
    ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n'
    : `basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:${opts.host}\n`;
  writeFileSync(f(`${name}.ext`), ext);
  if (!opts.issuer) {
    openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      f(`${name}.key`),
      '-subj',
      `/CN=${name}`,
      '-days',
      '30',
      '-out',
      f(`${name}.pem`),
      '-extensions',
      'v3',
      '-config',
      writeConfig(name, ext),
    );
  } else {
    openssl(
      'req',
      '-new',
      '-key',
      f(`${name}.key`),
      '-subj',
      `/CN=${name}`,
      '-out',
      f(`${name}.csr`),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f(`${opts.issuer}.pem`),
      '-CAkey',
      f(`${opts.issuer}.key`),
      '-CAcreateserial',
      '-days',
      '30',
      '-extfile',
      f(`${name}.ext`),
      '-out',
      f(`${name}.pem`),
    );
  }
  return new X509Certificate(readFileSync(f(`${name}.pem`)));
}
function writeConfig(name: string, ext: string): string {
  const file = f(`${name}.cnf`);
  writeFileSync(file, `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${ext}`);
  return file;
}

let root: X509Certificate, other: X509Certificate, mid: X509Certificate;
let leaf: X509Certificate, direct: X509Certificate;
beforeAll(() => {
  root = make('root', { ca: true });
  other = make('other', { ca: true });
  mid = make('mid', { ca: true, issuer: 'root' });
  leaf = make('leaf', { issuer: 'mid', host: 'devices.example.test' });
  direct = make('direct', { issuer: 'root', host: 'localhost' });
});
const now = new Date();

describe('chain to the pinned root', () => {
  it('ok/through an intermediate, and directly under the root', () => {
    expect(checkChainToRoot(leaf, [mid], { root, host: 'devices.example.test', at: now })).toEqual({
      ok: true,
    });
    expect(checkChainToRoot(direct, [], { root, host: 'localhost', at: now })).toEqual({
      ok: true,
    });
  });

  it('fail/another root is named in the refusal', () => {
    const r = checkChainToRoot(leaf, [mid], { root: other, at: now });
    expect(r).toEqual({
      ok: false,
      detail: 'the chain ends at "CN=root", which is not the pinned root "CN=other"',
    });
  });

  it('fail/a missing intermediate, or a leaf posing as one, does not chain', () => {
    expect(checkChainToRoot(leaf, [], { root, at: now }).ok).toBe(false);
    expect(checkChainToRoot(leaf, [direct], { root, at: now }).ok).toBe(false);
  });

  it('fail/a certificate for another host', () => {
    const r = checkChainToRoot(direct, [], { root, host: 'devices.example.test', at: now });
    expect(r).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/does not name devices.example.test/),
    });
  });

  it("fail/expired at the agent's time; not yet valid when the clock is far behind", () => {
    const later = new Date(Date.now() + 60 * 86_400_000);
    expect(checkChainToRoot(direct, [], { root, at: later })).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/expired/),
    });
    const before = new Date('1970-01-01T00:00:00Z');
    expect(checkChainToRoot(direct, [], { root, at: before })).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/not valid before/),
    });
    // Without a clock, only the floor counts: nothing may have expired before it.
    expect(checkChainToRoot(direct, [], { root, at: before, timeUnknown: true })).toEqual({
      ok: true,
    });
    expect(checkChainToRoot(direct, [], { root, at: later, timeUnknown: true }).ok).toBe(false);
  });
});
