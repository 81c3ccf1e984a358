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
import { lazy, type ComponentType } from 'react';
import { AREAS, type AreaInfo } from './nav-fns';

// Each screen is its own chunk, loaded when first opened: the console's first load carries
// the shell only, and a screen's heavy parts (the dashboard's charts) load with that screen.
const DashboardPage = lazy(() =>
  import('../dashboard/dashboard-page').then((m) => ({ default: m.DashboardPage })),
);
const DevicesPage = lazy(() =>
  import('../devices/devices-page').then((m) => ({ default: m.DevicesPage })),
);
const BatchDetailPage = lazy(() =>
  import('../devices/batch-detail-page').then((m) => ({ default: m.BatchDetailPage })),
);
const DeviceDetailPage = lazy(() =>
  import('../device/device-detail-page').then((m) => ({ default: m.DeviceDetailPage })),
);
const FirmwarePage = lazy(() =>
  import('../firmware/firmware-page').then((m) => ({ default: m.FirmwarePage })),
);
const HubsPage = lazy(() => import('../hubs/hubs-page').then((m) => ({ default: m.HubsPage })));
const TerminalPage = lazy(() =>
  import('../terminal/terminal-page').then((m) => ({ default: m.TerminalPage })),
);
const HsmPage = lazy(() => import('../hsm/hsm-page').then((m) => ({ default: m.HsmPage })));
const PoliciesPage = lazy(() =>
  import('../policies/policies-page').then((m) => ({ default: m.PoliciesPage })),
);
const LogsPage = lazy(() => import('../logs/logs-page').then((m) => ({ default: m.LogsPage })));
const UsersPage = lazy(() => import('../users/users-page').then((m) => ({ default: m.UsersPage })));
const DatabaseDirectPage = lazy(() =>
  import('../database-direct/database-direct-page').then((m) => ({
    default: m.DatabaseDirectPage,
  })),
);

const ProvisioningPage = lazy(() =>
  import('../provisioning/provisioning-page').then((m) => ({ default: m.ProvisioningPage })),
);

/** An area with its menu icon and its screen. */
export interface Screen extends AreaInfo {
  icon: Icon;
  component: ComponentType;
  /** Pages under the area's path (e.g. `:batchId` for /devices/:batchId); same menu entry. */
  subPages?: { path: string; component: ComponentType }[];
}

/**
 * Where each area's screen is plugged in. A feature that adds an area adds its entry here
 * (and nothing else in the shell changes): the route, the menu entry and its role filter
 * follow from AREAS in nav-fns.ts.
 */
const SCREEN_PARTS: Record<string, Pick<Screen, 'icon' | 'component' | 'subPages'>> = {
  '/dashboard': { icon: IconGauge, component: DashboardPage },
  '/devices': {
    icon: IconCpu,
    component: DevicesPage,
    subPages: [
      { path: ':batchId', component: BatchDetailPage },
      { path: ':batchId/:deviceId', component: DeviceDetailPage },
    ],
  },
  '/hsm': { icon: IconKey, component: HsmPage },
  '/firmwares': { icon: IconFileCode, component: FirmwarePage },
  '/policies': { icon: IconShieldCheck, component: PoliciesPage },
  '/iot-hubs': { icon: IconCloudComputing, component: HubsPage },
  '/provisioning': { icon: IconBrandDatabricks, component: ProvisioningPage },
  '/users': { icon: IconUsers, component: UsersPage },
  '/logs': { icon: IconListDetails, component: LogsPage },
  '/database-direct': { icon: IconDatabase, component: DatabaseDirectPage },
  '/terminal': { icon: IconTerminal2, component: TerminalPage },
};

export const SCREENS: readonly Screen[] = AREAS.map((a) => {
  const parts = SCREEN_PARTS[a.path];
  if (!parts) throw new Error(`no screen parts for ${a.path}`);
  return { ...a, ...parts };
});
