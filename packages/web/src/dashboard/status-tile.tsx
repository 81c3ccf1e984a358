import { Badge, Group, Paper, Text, Tooltip, UnstyledButton } from '@mantine/core';
import { IconRefresh } from '@tabler/icons-react';
import type { StatusTile, TileColour } from './status-fns';

/** Dark enough shades that the badge text keeps a 4.5:1 contrast in light and dark schemes. */
const BADGE_COLOUR: Record<TileColour, string> = {
  green: 'green.9',
  orange: 'orange.9',
  red: 'red.9',
  gray: 'gray.7',
};

/**
 * One global-status tile: a button (click or Enter to refresh) whose colour and text say the
 * same thing, with the details on hover and on keyboard focus.
 */
export function StatusTileButton({
  tile,
  checkedAt,
  refreshing,
  onRefresh,
}: {
  tile: StatusTile;
  checkedAt: Date | undefined;
  refreshing: boolean;
  onRefresh: () => void;
}) {
  const when = checkedAt ? `Checked at ${checkedAt.toLocaleTimeString()}.` : '';
  return (
    <Tooltip
      label={
        <>
          <Text size="sm">{tile.detail}</Text>
          <Text size="xs" c="dimmed">
            {when} Click to check again.
          </Text>
        </>
      }
      multiline
      w={300}
      withArrow
      events={{ hover: true, focus: true, touch: true }}
    >
      <UnstyledButton
        onClick={onRefresh}
        aria-label={`${tile.label}: ${tile.summary}. ${tile.detail} Activate to check again.`}
        aria-busy={refreshing}
        data-testid={`status-${tile.key}`}
        data-colour={tile.colour}
        style={{ display: 'block', width: '100%' }}
      >
        <Paper
          withBorder
          radius="md"
          p="md"
          style={{ borderLeft: `6px solid var(--mantine-color-${tile.colour}-7)` }}
        >
          <Group justify="space-between" wrap="nowrap">
            <Text fw={600}>{tile.label}</Text>
            <IconRefresh
              size={16}
              aria-hidden
              style={{ opacity: refreshing ? 1 : 0.4 }}
              className={refreshing ? 'tl-spin' : undefined}
            />
          </Group>
          <Badge mt="sm" color={BADGE_COLOUR[tile.colour]} variant="filled" size="lg">
            {tile.summary}
          </Badge>
        </Paper>
      </UnstyledButton>
    </Tooltip>
  );
}
