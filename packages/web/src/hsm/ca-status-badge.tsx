import { Badge } from '@mantine/core';
import type { CaStatus } from './hsm-types';

const COLOURS: Record<CaStatus, string> = {
  valid: 'green.9',
  expired: 'red.9',
  'not used': 'gray.7',
};

/** A certificate's status as the server states it: valid, expired or not used. */
export function CaStatusBadge({ status }: { status: CaStatus }) {
  return (
    <Badge color={COLOURS[status]} style={{ minWidth: 'max-content' }}>
      {status}
    </Badge>
  );
}
