import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../src/commands/exit-codes.js';
import { DEFAULT_CONFIG_FILE, parseAgentConfig } from '../src/config/agent-config.js';
import { RUN_EXIT } from '../src/run/run-command.js';

const unit = readFileSync(new URL('../systemd/trustlink-agent.service', import.meta.url), 'utf8');
/** The values of a unit setting (the last assignment wins, as systemd reads it). */
const setting = (name: string) =>
  [...unit.matchAll(new RegExp(`^${name}=(.*)$`, 'gm'))].map((m) => m[1]!.trim()).pop();

describe('systemd unit', () => {
  const defaults = parseAgentConfig(
    { platformUrl: 'https://d.example.com:8444', rootCaFile: 'r.pem', keyStore: { type: 'tpm' } },
    DEFAULT_CONFIG_FILE,
  );

  it('ok/directories systemd makes are the configuration defaults, with their modes', () => {
    expect(`/var/lib/${setting('StateDirectory')}`).toBe(defaults.stateDir);
    expect(setting('StateDirectoryMode')).toBe('0700');
    expect(`/run/${setting('RuntimeDirectory')}`).toBe(defaults.runDir);
    // Group members reach the socket and the credentials, nobody else.
    expect(setting('RuntimeDirectoryMode')).toBe('0750');
    expect(defaults.credentialsDir!.startsWith(`${defaults.runDir}/`)).toBe(true);
  });

  it('ok/runs `run` on the default configuration file', () => {
    expect(setting('ExecStart')).toMatch(
      new RegExp(`^/usr/bin/node \\S+/trustlink-agent\\.mjs run --config ${DEFAULT_CONFIG_FILE}$`),
    );
  });

  it('ok/restarts after a crash, never after revocation or what needs a person', () => {
    expect(setting('Restart')).toBe('on-failure');
    const prevent = setting('RestartPreventExitStatus')!.split(/\s+/).map(Number);
    expect(prevent).toEqual(
      expect.arrayContaining([EXIT.config, EXIT.noIdentity, RUN_EXIT.revoked]),
    );
    expect(prevent).not.toContain(RUN_EXIT.platformFailed);
  });
});
