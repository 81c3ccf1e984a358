/**
 * The console's areas (one per menu entry) and who sees them. The server enforces access on
 * every API call; the menu only spares a user screens whose calls would all be refused.
 */

export type Role = 'administrator' | 'contributor';

export interface AreaInfo {
  /** Route path (absolute, no trailing slash). */
  path: string;
  label: string;
  /** Roles that see the area in the menu; the server's checks apply regardless. */
  roles: readonly Role[];
}

const everyone: readonly Role[] = ['administrator', 'contributor'];
const administrators: readonly Role[] = ['administrator'];

/**
 * Menu order and role rules (PRODUCT.md U2: contributors have no Users screen; firmware
 * upload and signing are refused to them by the server, but they may still see firmware).
 */
export const AREAS: readonly AreaInfo[] = [
  {
    path: '/dashboard',
    label: 'Dashboard',
    roles: everyone,
  },
  {
    path: '/devices',
    label: 'Devices',
    roles: everyone,
  },
  {
    path: '/hsm',
    label: 'HSM',
    roles: everyone,
  },
  {
    path: '/firmwares',
    label: 'Firmwares',
    roles: everyone,
  },
  {
    path: '/policies',
    label: 'Policies',
    roles: everyone,
  },
  {
    path: '/iot-hubs',
    label: 'IoT Hubs',
    roles: everyone,
  },
  {
    path: '/provisioning',
    label: 'Provisioning',
    roles: everyone,
  },
  {
    path: '/users',
    label: 'Users',
    roles: administrators,
  },
  {
    path: '/logs',
    label: 'Logs',
    roles: everyone,
  },
  {
    path: '/database-direct',
    label: 'Database Direct',
    roles: everyone,
  },
  {
    path: '/terminal',
    label: 'Terminal',
    roles: everyone,
  },
];

/** The areas a role sees in the menu, in menu order. */
export function visibleAreas<A extends AreaInfo>(areas: readonly A[], role: Role): A[] {
  return areas.filter((a) => a.roles.includes(role));
}

/**
 * A `next` location to return to after sign-in, only when it is a path on this origin that is
 * not itself a sign-in step; anything else (another host, `//evil`, `javascript:`) falls back
 * to the dashboard.
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) {
    return '/dashboard';
  }
  if (/^\/(login|setup)(?:[/?#]|$)/.test(next)) return '/dashboard';
  return next;
}
