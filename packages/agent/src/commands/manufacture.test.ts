import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../config/agent-config.js';
import { openKeyStore } from '../keystore/open-key-store.js';
import { manufacture } from './manufacture.js';

const root = mkdtempSync(path.join(tmpdir(), 'trustlink-agent-manufacture-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const clock = () => new Date('2026-11-25T12:00:00Z');

function setup(name: string) {
  const config = parseAgentConfig(
    {
      platformUrl: 'https://devices.example.test',
      rootCaFile: 'root.pem',
      stateDir: name,
      keyStore: { type: 'file' },
    },
    path.join(root, 'agent.json'),
  );
  return { config, store: openKeyStore(config, { env: {}, warn: () => {} }) };
}

describe('manufacture', () => {
  it('ok/creates the key, records it atomically with private modes, then only finds it', async () => {
    const { config, store } = setup('a');
    const first = await manufacture(config, store, clock);
    expect(first).toMatchObject({ created: true, keyType: 'P-256', notes: [] });
    const stateFile = path.join(config.stateDir, 'identity.json');
    expect(statSync(config.stateDir).mode & 0o777).toBe(0o700);
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(state).toMatchObject({
      version: 1,
      deviceId: first.deviceId,
      keyStore: { type: 'file', path: path.join(config.stateDir, 'identity-key.pem') },
      createdAt: '2026-11-25T12:00:00.000Z',
    });

    const second = await manufacture(config, store, () => new Date('2027-01-01T00:00:00Z'));
    expect(second).toMatchObject({ created: false, deviceId: first.deviceId });
    expect(second.notes[0]).toMatch(/already exists .*nothing replaced/);
    // The record keeps its first date: nothing was rewritten.
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).createdAt).toBe('2026-11-25T12:00:00.000Z');
  });

  it('ok/a state that names another device follows the key store, with a note', async () => {
    const { config, store } = setup('b');
    const first = await manufacture(config, store, clock);
    const stateFile = path.join(config.stateDir, 'identity.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    writeFileSync(stateFile, JSON.stringify({ ...state, deviceId: 'f'.repeat(64) }));
    const again = await manufacture(config, store, clock);
    expect(again.notes.join('\n')).toMatch(/recorded device f{64}, but the key store holds/);
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).deviceId).toBe(first.deviceId);
  });

  it('fail/a damaged state file is reported, not silently replaced', async () => {
    const { config, store } = setup('c');
    await manufacture(config, store, clock);
    writeFileSync(path.join(config.stateDir, 'identity.json'), '{ torn');
    await expect(manufacture(config, store, clock)).rejects.toThrow(/not a valid identity state/);
  });
});
