import { ActionIcon, Button, Group, Loader, Paper, Text, Title, Tooltip } from '@mantine/core';
import { useLocalStorage } from '@mantine/hooks';
import { IconRefresh } from '@tabler/icons-react';
import { Link } from 'react-router';
import { useApiQuery } from '../api/use-api-query';
import { ProblemAlert } from '../components/problem-alert';
import type { AuditEntry } from '../logs/audit-fns';
import { AuditTable, ColumnSettings, type OptionalColumn } from '../logs/audit-table';

/** The dashboard's last ten log entries (U5), with refresh and a choice of columns. */
export function LastActivity() {
  const { data, error, loading, reload } = useApiQuery<{ entries: AuditEntry[] }>('/audit/recent', {
    limit: 10,
  });
  const [columns, setColumns] = useLocalStorage<OptionalColumn[]>({
    key: 'trustlink-activity-columns',
    defaultValue: ['result', 'actor'],
  });
  return (
    <section aria-labelledby="last-activity">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4" id="last-activity">
          Last activity
        </Title>
        <Group gap="xs">
          <ColumnSettings visible={columns} onChange={setColumns} />
          <Tooltip label="Refresh">
            <ActionIcon
              variant="default"
              size="lg"
              aria-label="Refresh the last activity"
              onClick={reload}
              loading={loading}
            >
              <IconRefresh size={18} aria-hidden />
            </ActionIcon>
          </Tooltip>
          <Button component={Link} to="/logs" variant="default">
            Go to Logs
          </Button>
        </Group>
      </Group>
      <ProblemAlert error={error} title="The last activity could not be loaded" />
      {data ? (
        <Paper withBorder p="xs">
          {data.entries.length ? (
            <AuditTable entries={data.entries} columns={columns} caption="Last activity" />
          ) : (
            <Text c="dimmed" size="sm" p="md">
              Nothing has happened on this instance yet.
            </Text>
          )}
        </Paper>
      ) : (
        !error && <Loader size="sm" aria-label="Loading the last activity" />
      )}
    </section>
  );
}
