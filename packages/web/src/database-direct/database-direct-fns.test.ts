import { describe, expect, it } from 'vitest';
import {
  caCertificateError,
  connectionErrors,
  connectionInputOf,
  connectionUrlError,
  connectionValues,
  credentialsState,
  newConnectionValues,
  publicKeyFileName,
  type ConnectionFormValues,
} from './database-direct-fns';
import type { DatabaseConnection } from './database-direct-types';

const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

const good = (over: Partial<ConnectionFormValues> = {}): ConnectionFormValues => ({
  ...newConnectionValues(),
  name: 'Telemetry',
  url: 'postgresql://db.example.com:5432',
  database: 'telemetry',
  username: 'writer',
  password: 'change-me',
  ...over,
});

const stored: DatabaseConnection = {
  id: 'c1',
  name: 'Telemetry',
  type: 'mariadb',
  url: 'mariadb://10.0.0.5',
  database: 'telemetry',
  dataSource: null,
  caCertificate: null,
  tls: false,
  secrets: { username: { set: true }, password: { set: true } },
  keyId: 'k1',
  publicKeyPem: '',
  jwksPath: '/device/v1/database-connections/c1/jwks.json',
  createdAt: '2026-11-26T00:00:00.000Z',
  updatedAt: '2026-11-26T00:00:00.000Z',
};

describe('connectionUrlError', () => {
  it('ok/host, host and port, IP literals and the alternative schemes', () => {
    for (const u of [
      'postgresql://db.example.com',
      'postgresql://db.example.com:6543',
      'postgres://10.1.2.3:5432/',
      'postgresql://[::1]:5432',
    ])
      expect(connectionUrlError('postgresql', u), u).toBeNull();
    expect(connectionUrlError('mariadb', 'mysql://db:3306')).toBeNull();
    expect(connectionUrlError('mariadb', 'mariadb://db.example.com')).toBeNull();
  });
  it('bad/what the server refuses, with its reasons', () => {
    expect(connectionUrlError('postgresql', '')).toBe('is required');
    expect(connectionUrlError('postgresql', 'db.example.com')).toMatch(/^must be a URL like/);
    expect(connectionUrlError('postgresql', 'mariadb://db:3306')).toBe(
      'must start with postgresql:// for a postgresql connection',
    );
    expect(connectionUrlError('mariadb', 'postgresql://db')).toMatch(/mariadb:\/\//);
    expect(connectionUrlError('postgresql', 'postgresql://u:p@db:5432')).toMatch(
      /must not hold credentials/,
    );
    expect(connectionUrlError('postgresql', 'postgresql://db:5432/telemetry')).toMatch(
      /only a host and a port/,
    );
    expect(connectionUrlError('postgresql', 'postgresql://db:5432?sslmode=disable')).toMatch(
      /only a host and a port/,
    );
    expect(connectionUrlError('postgresql', 'postgresql://:5432')).toBe('must name a host');
    expect(connectionUrlError('postgresql', 'postgresql://bad_host')).toBe('must name a host');
    expect(connectionUrlError('postgresql', 'postgresql://db:70000')).toMatch(/port/);
  });
});

describe('caCertificateError', () => {
  it('ok/empty means the system roots; one or more certificates pass', () => {
    expect(caCertificateError('')).toBeNull();
    expect(caCertificateError(cert + cert)).toBeNull();
  });
  it('bad/a private key, no certificate, or too many', () => {
    expect(
      caCertificateError(cert + '-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----'),
    ).toMatch(/private key/);
    expect(caCertificateError('hello')).toMatch(/PEM certificates/);
    expect(caCertificateError(cert.repeat(17))).toMatch(/at most 16/);
  });
});

describe('connectionErrors', () => {
  it('ok/a complete new connection has none', () => {
    expect(connectionErrors(good())).toEqual({});
  });
  it('bad/each field as the server checks it', () => {
    const e = connectionErrors(
      good({
        name: 'a/b',
        url: 'postgresql://db/x',
        database: '1st',
        dataSource: 'x'.repeat(129),
        caCertificate: 'nope',
        username: '',
        password: '',
      }),
    );
    expect(Object.keys(e).sort()).toEqual(
      ['caCertificate', 'dataSource', 'database', 'name', 'password', 'url', 'username'].sort(),
    );
    expect(e.url).toMatch(/^The URL must hold only a host and a port/);
    expect(connectionErrors(good({ name: ' ' })).name).toBe('Enter a name');
    expect(connectionErrors(good({ database: '' })).database).toMatch(/Enter the database/);
  });
  it('ok/an edited connection keeps its stored login when the boxes stay empty', () => {
    const v = { ...connectionValues(stored), name: 'Telemetry 2' };
    expect(v.username).toBe('');
    expect(connectionErrors(v, stored)).toEqual({});
    const unset = { ...stored, secrets: { username: { set: true }, password: { set: false } } };
    expect(connectionErrors(v, unset)).toEqual({ password: "Enter the login's password" });
  });
});

describe('connectionInputOf', () => {
  it('ok/trims, sends null for empty optional fields and leaves empty secrets out', () => {
    const body = connectionInputOf({ ...connectionValues(stored), name: ' Telemetry ' });
    expect(body).toEqual({
      name: 'Telemetry',
      type: 'mariadb',
      url: 'mariadb://10.0.0.5',
      database: 'telemetry',
      dataSource: null,
      caCertificate: null,
      tls: false,
    });
    expect('username' in body).toBe(false);
  });
  it('ok/typed secrets and a CA are sent as typed', () => {
    const body = connectionInputOf(good({ caCertificate: `\n${cert}\n`, dataSource: 'plant-1' }));
    expect(body).toMatchObject({
      username: 'writer',
      password: 'change-me',
      dataSource: 'plant-1',
      caCertificate: cert,
      tls: true,
    });
  });
});

describe('list helpers', () => {
  it('ok/credential state and the public key file name', () => {
    expect(credentialsState(stored)).toBe('set');
    expect(
      credentialsState({ secrets: { username: { set: false }, password: { set: false } } }),
    ).toBe('not set');
    expect(
      credentialsState({ secrets: { username: { set: true }, password: { set: false } } }),
    ).toBe('username set only');
    expect(publicKeyFileName('Readings PG')).toBe('readings-pg-jwt-public.pem');
    expect(publicKeyFileName('***')).toBe('connection-jwt-public.pem');
  });
});
