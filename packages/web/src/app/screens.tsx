import {
  IconBrandDatabricks,
  IconCloudComputing,
  IconCpu,
  IconDatabase,
  IconFileCode,
  IconGauge,
  IconKey,
  IconListDetails,
  IconShieldCheck,
  IconTerminal2,
  IconUsers,
  type Icon,
} from '@tabler/icons-react';
import type { ComponentType } from 'react';
import { DashboardPage } from '../dashboard/dashboard-page';
import { LogsPage } from '../logs/logs-page';
import { UsersPage } from '../users/users-page';
import { AREAS, type AreaInfo } from './nav-fns';

/** An area with its menu icon and, once its screen has landed, the screen's component. */
export interface Screen extends AreaInfo {
  icon: Icon;
  /** The screen; undefined shows the "not in this version yet" placeholder. */
  component?: ComponentType;
}

/**
 * Where each area's screen is plugged in. A feature that adds a screen sets `component` here
 * (and nothing else in the shell changes): the route, the menu entry and its role filter
 * follow from AREAS in nav-fns.ts.
 */
const SCREEN_PARTS: Record<string, Pick<Screen, 'icon' | 'component'>> = {
  '/dashboard': { icon: IconGauge, component: DashboardPage },
  '/devices': { icon: IconCpu },
  '/hsm': { icon: IconKey },
  '/firmwares': { icon: IconFileCode },
  '/policies': { icon: IconShieldCheck },
  '/iot-hubs': { icon: IconCloudComputing },
  '/provisioning': { icon: IconBrandDatabricks },
  '/users': { icon: IconUsers, component: UsersPage },
  '/logs': { icon: IconListDetails, component: LogsPage },
  '/database-direct': { icon: IconDatabase },
  '/terminal': { icon: IconTerminal2 },
};

export const SCREENS: readonly Screen[] = AREAS.map((a) => {
  const parts = SCREEN_PARTS[a.path];
  if (!parts) throw new Error(`no screen parts for ${a.path}`);
  return { ...a, ...parts };
});
