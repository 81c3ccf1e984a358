import { describe, expect, it } from 'vitest';
import { AREAS, safeNext, visibleAreas } from './nav-fns';

describe('visibleAreas', () => {
  it('ok/administrators see every area, in menu order', () => {
    expect(visibleAreas(AREAS, 'administrator').map((a) => a.label)).toEqual([
      'Dashboard',
      'Devices',
      'HSM',
      'Firmwares',
      'Policies',
      'IoT Hubs',
      'Provisioning',
      'Users',
      'Logs',
      'Database Direct',
      'Terminal',
    ]);
  });

  it('ok/contributors see no Users area', () => {
    const labels = visibleAreas(AREAS, 'contributor').map((a) => a.label);
    expect(labels).not.toContain('Users');
    expect(labels).toContain('Dashboard');
    expect(labels).toContain('Logs');
  });

  it('ok/paths are unique', () => {
    expect(new Set(AREAS.map((a) => a.path)).size).toBe(AREAS.length);
  });
});

describe('safeNext', () => {
  const cases: [string, string | null, string][] = [
    ['ok/a console path', '/users?page=2', '/users?page=2'],
    ['ok/nested path', '/devices/abc', '/devices/abc'],
    ['fail/missing', null, '/dashboard'],
    ['fail/another host', 'https://evil.example/', '/dashboard'],
    ['fail/protocol-relative', '//evil.example/x', '/dashboard'],
    ['fail/backslash trick', '/\\evil.example', '/dashboard'],
    ['fail/javascript URL', 'javascript:alert(1)', '/dashboard'],
    ['fail/back to sign-in', '/login?next=/x', '/dashboard'],
    ['fail/back to setup', '/setup', '/dashboard'],
  ];
  for (const [name, next, expected] of cases) {
    it(name, () => expect(safeNext(next)).toBe(expected));
  }
});
