import { EmptyState, Group, Loader, Paper, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import type { ApiError } from '../api/api-client';
import { ProblemAlert } from './problem-alert';

/**
 * The shell every list screen and tab has: an optional introduction with its action, the
 * server's refusal, a loader until the first answer, an empty state that says what to do, and
 * the list itself (children) on a bordered surface once there is something to show.
 */
export function ListSection({
  intro,
  action,
  error,
  errorTitle,
  loading,
  loadingLabel,
  items,
  empty,
  children,
}: {
  /** A sentence on what the list holds (tabs; pages say it in their header). */
  intro?: ReactNode;
  /** Beside the introduction: what creates an entry, when the user may. */
  action?: ReactNode;
  error?: ApiError;
  errorTitle: string;
  loading: boolean;
  loadingLabel: string;
  /** Undefined until the first answer. */
  items: readonly unknown[] | undefined;
  empty: { icon: ReactNode; title: string; description: ReactNode; action?: ReactNode };
  /** The table, shown once there is at least one item. */
  children: ReactNode;
}) {
  return (
    <Stack>
      {(intro || action) && (
        <Group justify="space-between" align="flex-start">
          {intro && (
            <Text size="sm" c="dimmed" maw={720}>
              {intro}
            </Text>
          )}
          {action}
        </Group>
      )}
      <ProblemAlert error={error} title={errorTitle} />
      {loading && !items && <Loader aria-label={loadingLabel} />}
      {items && items.length === 0 && (
        <Paper withBorder p="xl">
          <EmptyState
            icon={empty.icon}
            withIndicatorBackground
            title={empty.title}
            description={empty.description}
          >
            {empty.action && <EmptyState.Actions>{empty.action}</EmptyState.Actions>}
          </EmptyState>
        </Paper>
      )}
      {items && items.length > 0 && (
        <Paper withBorder p="xs">
          {children}
        </Paper>
      )}
    </Stack>
  );
}
