import { Badge } from '@mantine/core';
import type { UpdateStatus } from './firmware-types';

/** Shades dark enough for 4.5:1 contrast on their badge, in both schemes. */
export const UPDATE_COLOURS: Record<UpdateStatus, string> = {
  pending: 'gray.7',
  downloading: 'blue.9',
  installing: 'indigo.9',
  installed: 'green.9',
  failed: 'red.9',
};

/** Where a device is in its update; the word says what the colour says. */
export function UpdateStatusBadge({ status }: { status: UpdateStatus }) {
  return (
    <Badge color={UPDATE_COLOURS[status]} style={{ minWidth: 'max-content' }}>
      {status}
    </Badge>
  );
}
