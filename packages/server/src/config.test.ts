import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_OPTIONS,
  ConfigError,
  effectiveConsoleUrl,
  effectiveDatabaseUrl,
  loadConfig,
  renderConfigDocs,
} from './config.js';

describe('loadConfig', () => {
  it('ok/defaults', () => {
    const c = loadConfig({});
    expect(c.managementPort).toBe(8443);
    expect(c.devicePort).toBe(8444);
    expect(c.mqttPort).toBe(8883);
    expect(c.outboundAllowList).toBe('');
    expect(c.mosquittoManagedRoot).toBeUndefined();
    expect(c.dataDir).toBe('./data');
    expect(effectiveDatabaseUrl(c)).toBe('sqlite:data/trustlink.db');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('ok/variables override the file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tl-cfg-'));
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ managementPort: 9000, devicePort: 9001 }));
    const c = loadConfig({ TRUSTLINK_CONFIG_FILE: file, TRUSTLINK_DEVICE_PORT: '9100' });
    expect(c.managementPort).toBe(9000);
    expect(c.devicePort).toBe(9100);
  });

  it('ok/the console address: configured (without a trailing slash), or host and port', () => {
    expect(effectiveConsoleUrl(loadConfig({}))).toBe('https://localhost:8443');
    expect(effectiveConsoleUrl(loadConfig({ TRUSTLINK_PUBLIC_HOSTNAME: 'tl.lan' }), 9443)).toBe(
      'https://tl.lan:9443',
    );
    const c = loadConfig({ TRUSTLINK_CONSOLE_URL: 'https://trustlink.example.com/' });
    expect(effectiveConsoleUrl(c, 9443)).toBe('https://trustlink.example.com');
  });

  it('ok/DATABASE_URL is read when TRUSTLINK_DATABASE_URL is unset', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://x@h/db' }).databaseUrl).toBe('postgres://x@h/db');
  });

  const failures: [string, Record<string, string>, RegExp][] = [
    ['fail/port not a number', { TRUSTLINK_MANAGEMENT_PORT: 'abc' }, /TRUSTLINK_MANAGEMENT_PORT/],
    ['fail/port out of range', { TRUSTLINK_DEVICE_PORT: '70000' }, /TRUSTLINK_DEVICE_PORT/],
    [
      'fail/unknown database scheme',
      { TRUSTLINK_DATABASE_URL: 'mysql://h/db' },
      /TRUSTLINK_DATABASE_URL.*sqlite:, postgres/,
    ],
    [
      'fail/short master key',
      { TRUSTLINK_MASTER_KEY: 'c2hvcnQ=' },
      /TRUSTLINK_MASTER_KEY.*32 bytes/,
    ],
    ['fail/bad log level', { TRUSTLINK_LOG_LEVEL: 'loud' }, /TRUSTLINK_LOG_LEVEL/],
    [
      'fail/cert without key',
      { TRUSTLINK_MANAGEMENT_TLS_CERT_FILE: '/x.pem' },
      /must be set together/,
    ],
    ['fail/MQTT port out of range', { TRUSTLINK_MQTT_PORT: '65536' }, /TRUSTLINK_MQTT_PORT/],
    [
      'fail/allow-list entry that is not an address',
      { TRUSTLINK_OUTBOUND_ALLOW_LIST: '10.0.0.0/40' },
      /TRUSTLINK_OUTBOUND_ALLOW_LIST.*prefix/,
    ],
    [
      'fail/allow-list with a host name',
      { TRUSTLINK_OUTBOUND_ALLOW_LIST: 'db.internal' },
      /TRUSTLINK_OUTBOUND_ALLOW_LIST/,
    ],
    ['fail/missing config file', { TRUSTLINK_CONFIG_FILE: '/nonexistent/x.json' }, /cannot read/],
    [
      'fail/Redis URL of another scheme',
      { TRUSTLINK_REDIS_URL: 'http://127.0.0.1:6379' },
      /TRUSTLINK_REDIS_URL.*redis:\/\//,
    ],
    [
      'fail/firmware in the database without PostgreSQL',
      { TRUSTLINK_FIRMWARE_STORE: 'database' },
      /TRUSTLINK_FIRMWARE_STORE=database needs a PostgreSQL/,
    ],
    [
      'fail/a console address over plain HTTP',
      { TRUSTLINK_CONSOLE_URL: 'http://trustlink.example.com' },
      /TRUSTLINK_CONSOLE_URL.*https:\/\//,
    ],
    [
      'fail/a console address with a path',
      { TRUSTLINK_CONSOLE_URL: 'https://example.com/trustlink' },
      /TRUSTLINK_CONSOLE_URL.*no path/,
    ],
    ['fail/unknown firmware store', { TRUSTLINK_FIRMWARE_STORE: 's3' }, /TRUSTLINK_FIRMWARE_STORE/],
  ];
  for (const [name, env, message] of failures) {
    it(name, () => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });
  }

  it('fail/unknown key in the file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tl-cfg-'));
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ managementPorts: 1 }));
    expect(() => loadConfig({}, file)).toThrow(/unknown option "managementPorts"/);
  });
});

describe('renderConfigDocs', () => {
  it('ok/documents every option with its variable', () => {
    const md = renderConfigDocs();
    for (const [key, opt] of Object.entries(CONFIG_OPTIONS)) {
      expect(md).toContain(`\`${key}\``);
      expect(md).toContain(opt.env);
    }
  });
});
