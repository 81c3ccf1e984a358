import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkDocument,
  compactJwt,
  jwtSigningInput,
  ownDatabaseCheck,
  parseConnectionUrl,
  parseJwt,
  publicJwk,
  verifyDeviceJwt,
  type DeviceJwtClaims,
} from './database-direct-fns.js';

describe('parseConnectionUrl', () => {
  const ok: [string, 'postgresql' | 'mariadb', string, number][] = [
    ['ok/postgresql with port', 'postgresql', 'postgresql://db.example.com:6543', 6543],
    ['ok/postgres scheme, default port', 'postgresql', 'postgres://db.example.com', 5432],
    ['ok/mariadb default port', 'mariadb', 'mariadb://10.1.2.3', 3306],
    ['ok/mysql scheme', 'mariadb', 'mysql://db.example.com:3307/', 3307],
  ];
  for (const [name, type, url, port] of ok)
    it(name, () => expect(parseConnectionUrl(type, url)).toMatchObject({ ok: true, port }));

  const fail: [string, 'postgresql' | 'mariadb', string, RegExp][] = [
    ['fail/not a URL', 'postgresql', 'db.example.com', /must be a URL/],
    ['fail/wrong scheme', 'postgresql', 'mariadb://db.example.com', /postgresql:\/\//],
    ['fail/credentials', 'mariadb', 'mariadb://root:x@db.example.com', /credentials/],
    ['fail/path', 'postgresql', 'postgresql://db.example.com/other', /only a host and a port/],
    ['fail/query', 'postgresql', 'postgresql://db.example.com?sslmode=disable', /only a host/],
  ];
  for (const [name, type, url, reason] of fail)
    it(name, () => {
      const r = parseConnectionUrl(type, url);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
    });
});

describe('ownDatabaseCheck', () => {
  const platform = { addresses: ['127.0.0.1'], port: 5432, database: 'trustlink', username: 'tl' };
  it('ok/another database with its own login', () =>
    expect(
      ownDatabaseCheck(
        { addresses: ['127.0.0.1'], port: 5432, database: 'data', username: 'dev' },
        platform,
      ).ok,
    ).toBe(true));
  it('ok/another server', () =>
    expect(
      ownDatabaseCheck(
        { addresses: ['127.0.0.2'], port: 5432, database: 'trustlink', username: 'tl' },
        platform,
      ).ok,
    ).toBe(true));
  it('ok/SQLite platform', () =>
    expect(
      ownDatabaseCheck({ addresses: ['127.0.0.1'], port: 5432, database: 'x' }, undefined).ok,
    ).toBe(true));
  it('fail/same database (IPv4-mapped address)', () =>
    expect(
      ownDatabaseCheck(
        { addresses: ['::ffff:127.0.0.1'], port: 5432, database: 'trustlink', username: 'dev' },
        platform,
      ),
    ).toEqual({ ok: false, reason: "that is the platform's own database" }));
  it("fail/the platform's login", () =>
    expect(
      ownDatabaseCheck(
        { addresses: ['127.0.0.1'], port: 5432, database: 'data', username: 'tl' },
        platform,
      ).ok,
    ).toBe(false));
});

describe('device JWT', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spkiDer = key.publicKey.export({ type: 'spki', format: 'der' });
  const now = new Date('2026-11-26T12:00:00Z');
  const t = now.getTime() / 1000;
  const claims: DeviceJwtClaims = {
    iss: 'inst',
    sub: 'a'.repeat(64),
    aud: 'conn',
    iat: t,
    nbf: t,
    exp: t + 600,
    jti: 'j',
  };
  const make = (c: Partial<DeviceJwtClaims> = {}, k = key.privateKey, kid = 'k1') => {
    const input = jwtSigningInput(kid, { ...claims, ...c });
    return compactJwt(
      input,
      sign('sha256', Buffer.from(input), { key: k, dsaEncoding: 'ieee-p1363' }),
    );
  };
  const expect_ = {
    publicKey: key.publicKey,
    kid: 'k1',
    aud: 'conn',
    iss: 'inst',
    now,
    leewaySeconds: 30,
  };
  const check = (token: string) => {
    const p = parseJwt(token);
    if (!p.ok) return p;
    return verifyDeviceJwt(p.jwt, expect_);
  };

  it('ok/valid token', () =>
    expect(check(make())).toMatchObject({ ok: true, claims: { sub: claims.sub } }));
  it('ok/within the leeway after expiry', () => expect(check(make({ exp: t - 10 })).ok).toBe(true));
  const fail: [string, () => string, RegExp][] = [
    ['fail/expired', () => make({ exp: t - 31 }), /expired/],
    ['fail/not yet valid', () => make({ nbf: t + 120 }), /not yet valid/],
    ['fail/other key', () => make({}, other.privateKey), /signature/],
    ['fail/other audience', () => make({ aud: 'other' }), /aud/],
    ['fail/other instance', () => make({ iss: 'x' }), /iss/],
    ['fail/other kid', () => make({}, key.privateKey, 'k2'), /kid/],
    ['fail/sub not a device', () => make({ sub: 'root' }), /sub/],
    [
      'fail/alg none',
      () => {
        const [, body] = make().split('.');
        const h = Buffer.from(JSON.stringify({ alg: 'none', kid: 'k1' })).toString('base64url');
        return `${h}.${body}.AAAA`;
      },
      /ES256/,
    ],
    ['fail/garbage', () => 'not.a.jwt!', /compact JWT/],
  ];
  for (const [name, token, reason] of fail)
    it(name, () => {
      const r = check(token());
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
    });

  it('ok/JWK carries the same key', () => {
    const jwk = publicJwk(spkiDer, 'k1');
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: 'k1', alg: 'ES256', use: 'sig' });
    expect(jwk.x).toBe(key.publicKey.export({ format: 'jwk' }).x);
  });
});

describe('checkDocument', () => {
  it('ok/an object', () =>
    expect(checkDocument({ t: 21.5, tags: ['a'] }, 1024)).toEqual({
      ok: true,
      json: '{"t":21.5,"tags":["a"]}',
    }));
  it('fail/an array', () => expect(checkDocument([1], 1024).ok).toBe(false));
  it('fail/too large', () => expect(checkDocument({ s: 'x'.repeat(2000) }, 1024).ok).toBe(false));
  it('fail/too deep', () => {
    let d: Record<string, unknown> = {};
    const top = d;
    for (let i = 0; i < 20; i++) d = (d.n = {}) as Record<string, unknown>;
    expect(checkDocument(top, 1_000_000).ok).toBe(false);
  });
  it('fail/NUL character', () => expect(checkDocument({ s: 'a\u0000b' }, 1024).ok).toBe(false));
});
