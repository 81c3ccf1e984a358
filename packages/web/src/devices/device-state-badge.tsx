import { Badge } from '@mantine/core';
import type { DeviceState } from './batch-types';

const COLOURS: Record<DeviceState, string> = {
  registered: 'gray.7',
  enrolled: 'green.9',
  renewed: 'teal.9',
  revoked: 'red.9',
  expired: 'dark.5',
};
const LABELS: Record<DeviceState, string> = {
  registered: 'not enrolled',
  enrolled: 'enrolled',
  renewed: 'renewed',
  revoked: 'revoked',
  expired: 'expired',
};

/** A device's state; a registered device is shown as "not enrolled", which is what it means. */
export function DeviceStateBadge({ state }: { state: DeviceState }) {
  return (
    <Badge color={COLOURS[state]} style={{ minWidth: 'max-content' }}>
      {LABELS[state]}
    </Badge>
  );
}

export const DEVICE_STATE_LABELS = LABELS;
