import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, configFileFrom, loadAgentConfig, parseAgentConfig } from './agent-config.js';

const base = {
  platformUrl: 'https://devices.example.com:8444',
  rootCaFile: 'root-ca.pem',
  keyStore: { type: 'tpm' },
};
const file = '/etc/trustlink/agent.json';

describe('agent config', () => {
  it('ok/minimal tpm config gets its defaults and absolute paths', () => {
    const c = parseAgentConfig(base, file);
    expect(c.rootCaFile).toBe('/etc/trustlink/root-ca.pem');
    expect(c.stateDir).toBe('/var/lib/trustlink-agent');
    expect(c.checkInIntervalSeconds).toBe(3600);
    expect(c.keyStore).toMatchObject({
      type: 'tpm',
      keyType: 'P-256',
      keyLocation: 'persistent',
      persistentHandle: '0x81010002',
      parent: 'owner',
    });
    expect(c.hooks.timeoutSeconds).toBe(900);
    expect(c).toMatchObject({
      runDir: '/run/trustlink-agent',
      credentialsDir: '/run/trustlink-agent/credentials',
      retryInitialSeconds: 5,
      retryMaxSeconds: 900,
      timeSource: 'auto',
    });
    expect(Object.isFrozen(c.keyStore)).toBe(true);
  });

  it('ok/hardware attributes are kept as given; none by default', () => {
    expect(parseAgentConfig(base, file).hardware).toEqual({});
    const c = parseAgentConfig({ ...base, hardware: { board: 'tl-gw-2', revision: 'c' } }, file);
    expect(c.hardware).toEqual({ board: 'tl-gw-2', revision: 'c' });
    expect(Object.isFrozen(c.hardware)).toBe(true);
  });

  it('ok/file key store defaults into the state directory', () => {
    const c = parseAgentConfig(
      { ...base, stateDir: 'state', keyStore: { type: 'file' } },
      '/opt/dev/agent.json',
    );
    expect(c.keyStore).toMatchObject({ type: 'file', path: '/opt/dev/state/identity-key.pem' });
  });

  it('ok/pkcs11 with hooks', () => {
    const c = parseAgentConfig(
      {
        ...base,
        keyStore: {
          type: 'pkcs11',
          module: '/usr/lib/softhsm/libsofthsm2.so',
          tokenLabel: 't',
          pinFile: 'pin',
        },
        hooks: { install: ['/usr/bin/install-image', '--verbose'] },
      },
      file,
    );
    expect(c.keyStore).toMatchObject({
      pinFile: '/etc/trustlink/pin',
      pinEnv: 'TRUSTLINK_AGENT_PKCS11_PIN',
      keyLabel: 'trustlink-identity',
    });
    expect(c.hooks.install).toEqual(['/usr/bin/install-image', '--verbose']);
  });

  const failures: [string, unknown, RegExp][] = [
    ['fail/not an object', [], /must be a JSON object/],
    [
      'fail/missing platformUrl',
      { ...base, platformUrl: undefined },
      /: platformUrl: is required$/,
    ],
    [
      'fail/plain http platform',
      { ...base, platformUrl: 'http://x.example' },
      /platformUrl: must be an https:\/\/ URL/,
    ],
    ['fail/unknown top-level option', { ...base, colour: 'red' }, /unknown option colour/],
    [
      'fail/unknown key store option',
      { ...base, keyStore: { type: 'tpm', pin: '1' } },
      /unknown option keyStore\.pin$/,
    ],
    [
      'fail/unknown key store type',
      { ...base, keyStore: { type: 'hsm' } },
      /keyStore\.type: must be one of tpm, pkcs11, file/,
    ],
    [
      'fail/bad persistent handle',
      { ...base, keyStore: { type: 'tpm', persistentHandle: '0x81800000' } },
      /keyStore\.persistentHandle: must be a persistent handle/,
    ],
    [
      'fail/bad parent',
      { ...base, keyStore: { type: 'tpm', parent: 'platform' } },
      /keyStore\.parent: /,
    ],
    [
      'fail/bad key type',
      { ...base, keyStore: { type: 'file', keyType: 'Ed25519' } },
      /keyStore\.keyType: /,
    ],
    [
      'fail/pkcs11 without token',
      { ...base, keyStore: { type: 'pkcs11', module: '/m.so' } },
      /keyStore\.tokenLabel: is required/,
    ],
    [
      'fail/a PIN is not a config value',
      { ...base, keyStore: { type: 'pkcs11', module: '/m.so', tokenLabel: 't', pin: '1234' } },
      /unknown option keyStore\.pin$/,
    ],
    [
      'fail/check-in interval of 0',
      { ...base, checkInIntervalSeconds: 0 },
      /checkInIntervalSeconds: /,
    ],
    [
      'fail/retry cap below the first wait',
      { ...base, retryInitialSeconds: 10, retryMaxSeconds: 5 },
      /retryMaxSeconds: must not be below retryInitialSeconds/,
    ],
    ['fail/unknown time source', { ...base, timeSource: 'ntp' }, /timeSource: /],
    [
      'fail/hook through a shell-relative path',
      { ...base, hooks: { install: ['install.sh'] } },
      /hooks\.install: must start with an absolute program path/,
    ],
    [
      'fail/hardware attribute name with a space',
      { ...base, hardware: { 'board name': 'tl-gw-2' } },
      /hardware\.board name: is not a valid name: an attribute name is 1 to 64 letters/,
    ],
    [
      'fail/hardware attribute that is not a string',
      { ...base, hardware: { revision: 3 } },
      /hardware\.revision: .*expected string/,
    ],
    ['fail/hardware as a list', { ...base, hardware: ['tl-gw-2'] }, /hardware: .*expected record/],
    [
      'fail/more than 32 hardware attributes',
      {
        ...base,
        hardware: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`a${i}`, 'x'])),
      },
      /hardware: at most 32 hardware attributes/,
    ],
  ];
  for (const [name, data, message] of failures) {
    it(name, () => {
      let err: unknown;
      try {
        parseAgentConfig(data, file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toMatch(/^configuration: \/etc\/trustlink\/agent\.json: /);
      expect((err as Error).message).not.toContain('\n');
    });
  }

  describe('files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trustlink-agent-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('fail/missing file', () => {
      expect(() => loadAgentConfig(path.join(dir, 'none.json'))).toThrow(
        /cannot read .*none\.json/,
      );
    });
    it('fail/not JSON', () => {
      writeFileSync(path.join(dir, 'bad.json'), '{ platformUrl: x');
      expect(() => loadAgentConfig(path.join(dir, 'bad.json'))).toThrow(/is not valid JSON/);
    });
    it('ok/file path from option, then variable, then default', () => {
      expect(configFileFrom('a.json', { TRUSTLINK_AGENT_CONFIG: 'b.json' })).toBe('a.json');
      expect(configFileFrom(undefined, { TRUSTLINK_AGENT_CONFIG: 'b.json' })).toBe('b.json');
      expect(configFileFrom(undefined, {})).toBe('/etc/trustlink/agent.json');
    });
  });
});
