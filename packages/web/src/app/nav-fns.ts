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
  /** One line for the placeholder of areas whose screen has not landed yet. */
  summary: string;
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
    summary: 'Status of the instance at a glance.',
  },
  {
    path: '/devices',
    label: 'Devices',
    roles: everyone,
    summary: 'Batches of device identities, their enrolment and certificates.',
  },
  {
    path: '/hsm',
    label: 'HSM',
    roles: everyone,
    summary: 'Root, issuing and TLS certificates, auth certificates, tokens and signing keys.',
  },
  {
    path: '/firmwares',
    label: 'Firmwares',
    roles: everyone,
    summary: 'Firmware images, their attributes and signatures.',
  },
  {
    path: '/policies',
    label: 'Policies',
    roles: everyone,
    summary: 'Certificate lifetimes, key types and connection types for batches.',
  },
  {
    path: '/iot-hubs',
    label: 'IoT Hubs',
    roles: everyone,
    summary: 'Brokers and clouds that enrolled devices are onboarded to.',
  },
  {
    path: '/provisioning',
    label: 'Provisioning',
    roles: everyone,
    summary: 'Tasks that flash a USB-connected device and add its identity to a batch.',
  },
  {
    path: '/users',
    label: 'Users',
    roles: administrators,
    summary: 'Accounts, roles and two-factor authentication.',
  },
  {
    path: '/logs',
    label: 'Logs',
    roles: everyone,
    summary: 'Every action and device event: who, what and when.',
  },
  {
    path: '/database-direct',
    label: 'Database Direct',
    roles: everyone,
    summary: 'Databases that devices write to directly with short-lived tokens.',
  },
  {
    path: '/terminal',
    label: 'Terminal',
    roles: everyone,
    summary: 'A serial console to a USB-connected device, in the browser.',
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
