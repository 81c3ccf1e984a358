import { describe, expect, it } from 'vitest';
import { pemOf, renderAcl } from './mosquitto-fns.js';
import { DEFAULT_RULES } from './mqtt-rules-fns.js';

const dev = 'a'.repeat(64);

describe('renderAcl', () => {
  const acl = renderAcl({
    hub: { id: 'hub-1', name: 'Plant' },
    platformUser: 'p'.repeat(64),
    rules: DEFAULT_RULES,
    clients: [
      { kind: 'tool', username: 'c'.repeat(64), clientId: 'tool-dash-0001', label: 'Dashboard' },
      { kind: 'device', username: dev, clientId: dev, label: dev },
    ],
  });

  it('ok/the platform may do anything, each client gets its own rules', () => {
    expect(acl).toContain(`user ${'p'.repeat(64)}\ntopic readwrite #\n`);
    expect(acl).toContain(
      `# device ${dev}\nuser ${dev}\ntopic write devices/${dev}/#\ntopic read devices/${dev}/#\n`,
    );
    expect(acl).toContain(
      `# tool Dashboard\nuser ${'c'.repeat(64)}\ntopic write devices/+/commands/#\ntopic read devices/+/#\n`,
    );
  });

  it('ok/no pattern lines: a client the file does not name gets nothing', () => {
    expect(acl).not.toMatch(/^pattern /m);
  });

  it('fail/a value that would break the file', () => {
    expect(() =>
      renderAcl({
        hub: { id: 'h', name: 'n' },
        platformUser: 'p',
        rules: DEFAULT_RULES,
        clients: [{ kind: 'tool', username: 'x\ntopic readwrite #', clientId: 't', label: 't' }],
      }),
    ).toThrow(/unsafe/);
  });
});

describe('pemOf', () => {
  it('ok/64-character lines with the label', () => {
    const pem = pemOf(Buffer.alloc(100, 1), 'X509 CRL');
    expect(pem.split('\n')[0]).toBe('-----BEGIN X509 CRL-----');
    expect(pem.split('\n')[1]).toHaveLength(64);
    expect(pem.endsWith('-----END X509 CRL-----\n')).toBe(true);
  });
});
