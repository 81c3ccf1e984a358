import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig, type Config } from '../config.js';
import type { DialectName } from '../db/database.js';
import type { DeviceAuthenticator } from '../devices/device-authenticator.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import { startServer, type RunningServer } from '../serve.js';
import { createTestDatabase, type TestDatabase } from './test-databases.js';

export interface TestServer extends RunningServer {
  config: Config;
  home: string;
  database: TestDatabase;
  /** HTTPS request to the management port, trusting only the instance root. */
  request(method: string, urlPath: string, opts?: RequestOptions): Promise<TestResponse>;
  /** HTTPS request to the device port. */
  deviceRequest(method: string, urlPath: string, opts?: RequestOptions): Promise<TestResponse>;
  /** Plain-HTTP request to the PKI port (CRL, OCSP). */
  pkiRequest(method: string, urlPath: string, opts?: RequestOptions): Promise<TestResponse>;
  /**
   * The server's last warnings and errors (pino JSON lines), kept even when the test log is
   * silent, so a failing assertion can say why the server answered as it did.
   */
  warnings(): string[];
  /** Stops the server; `keepData` leaves the database and home for a restart. */
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  cert?: string;
  key?: string;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The raw body (DER responses). */
  body: Buffer;
  json<T = unknown>(): T;
}

/** One HTTPS request that trusts exactly the given root. */
export function httpsRequest(
  baseUrl: string,
  ca: string,
  method: string,
  urlPath: string,
  opts: RequestOptions = {},
): Promise<TestResponse> {
  const url = new URL(urlPath, baseUrl);
  const isRaw = typeof opts.body === 'string' || Buffer.isBuffer(opts.body);
  const payload =
    opts.body === undefined
      ? undefined
      : isRaw
        ? (opts.body as string | Buffer)
        : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        method,
        hostname: '127.0.0.1',
        servername: 'localhost',
        port: url.port,
        path: url.pathname + url.search,
        ca,
        cert: opts.cert,
        key: opts.key,
        headers: {
          ...(payload !== undefined && !isRaw ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            body,
            json: () => JSON.parse(text),
          });
        });
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** One plain-HTTP request (the PKI port). */
export function httpRequest(
  baseUrl: string,
  method: string,
  urlPath: string,
  opts: RequestOptions = {},
): Promise<TestResponse> {
  const url = new URL(urlPath, baseUrl);
  const payload =
    opts.body === undefined
      ? undefined
      : typeof opts.body === 'string' || Buffer.isBuffer(opts.body)
        ? opts.body
        : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        method,
        hostname: '127.0.0.1',
        port: url.port,
        path: url.pathname + url.search,
        headers: opts.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: body.toString('utf8'),
            body,
            json: () => JSON.parse(body.toString('utf8')),
          });
        });
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Configuration for a test server: random ports, its own home, data and key file, no logs. */
export function testConfig(
  home: string,
  databaseUrl: string,
  env: Record<string, string> = {},
): Config {
  return loadConfig({
    TRUSTLINK_DATA_DIR: path.join(home, 'data'),
    TRUSTLINK_MASTER_KEY_FILE: path.join(home, 'secrets', 'master.key'),
    TRUSTLINK_DATABASE_URL: databaseUrl,
    TRUSTLINK_MANAGEMENT_PORT: '0',
    TRUSTLINK_DEVICE_PORT: '0',
    TRUSTLINK_PKI_HTTP_PORT: '0',
    TRUSTLINK_MQTT_PORT: '0',
    TRUSTLINK_BIND_ADDRESS: '127.0.0.1',
    TRUSTLINK_LOG_LEVEL: process.env.TRUSTLINK_TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
}

/**
 * Starts the whole server on a new database of the dialect (or a given one, to restart on the
 * same data) and real TLS ports.
 */
export async function startTestServer(
  dialect: DialectName,
  opts: {
    env?: Record<string, string>;
    database?: TestDatabase;
    home?: string;
    /** The server's clock (see test-clock.ts), for expiry and TOTP tests. */
    now?: () => Date;
    /** How device-API requests find their device (injected; see app.ts AppOptions). */
    authenticateDevice?: DeviceAuthenticator;
    /** Wraps the server's key store, to inject key-store faults (see runtime.ts). */
    keyStore?: (made: KeyStore) => KeyStore;
  } = {},
): Promise<TestServer> {
  const database = opts.database ?? (await createTestDatabase(dialect));
  const home = opts.home ?? mkdtempSync(path.join(os.tmpdir(), 'trustlink-home-'));
  const config = testConfig(home, database.url, opts.env);
  const warnings: string[] = [];
  const log = pino(
    { level: config.logLevel === 'silent' ? 'warn' : config.logLevel },
    {
      write(line: string) {
        if (pino.levels.values.warn! <= (JSON.parse(line) as { level: number }).level) {
          warnings.push(line.trimEnd());
          if (warnings.length > 100) warnings.shift();
        }
        if (config.logLevel !== 'silent') process.stdout.write(line);
      },
    },
  );
  const server = await startServer(config, log, {
    now: opts.now,
    authenticateDevice: opts.authenticateDevice,
    keyStore: opts.keyStore,
  });
  const ca = server.rootPem;
  return {
    ...server,
    config,
    home,
    database,
    request: (m, p, o) => httpsRequest(server.managementUrl, ca, m, p, o),
    deviceRequest: (m, p, o) => httpsRequest(server.deviceUrl, ca, m, p, o),
    pkiRequest: (m, p, o) => httpRequest(server.pkiUrl, m, p, o),
    warnings: () => [...warnings],
    async close(closeOpts = {}) {
      await server.stop();
      if (!closeOpts.keepData) {
        await database.drop();
        rmSync(home, { recursive: true, force: true });
      }
    },
  };
}
