import { Badge, Code, Drawer, Loader, Pagination, Stack, Table, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useApiQuery } from '../api/use-api-query';
import { ListTable } from '../components/list-table';
import { ProblemAlert } from '../components/problem-alert';
import { formatTime } from '../logs/audit-fns';
import { RUN_STATUS_LABELS, type Run, type RunPage, type Task } from './provisioning-types';

const PAGE = 20;

/** What a run left: the device ID it registered, or why it did not. */
function Outcome({ run }: { run: Run }) {
  if (run.deviceId)
    return (
      <Code fz="xs" style={{ wordBreak: 'break-all' }}>
        {run.deviceId}
      </Code>
    );
  if (run.reason)
    return (
      <Text size="sm" c="dimmed">
        {run.reason}
      </Text>
    );
  return <>—</>;
}

/**
 * The runs of one task, newest first, a page at a time: when, who, how it ended, and the device
 * ID or the reason. Everyone who can run a task sees its runs. Each opening loads afresh, so a
 * run just made is there.
 */
export function RunsDrawer({ task, onClose }: { task: Task | undefined; onClose: () => void }) {
  const [page, setPage] = useState(1);
  const { data, error, loading } = useApiQuery<RunPage>(
    task ? `/provisioning-tasks/${task.id}/runs` : null,
    { offset: (page - 1) * PAGE, limit: PAGE },
  );
  useEffect(() => setPage(1), [task?.id]);

  return (
    <Drawer
      opened={task !== undefined}
      onClose={onClose}
      position="right"
      size="xl"
      title={task ? `Runs of ${task.name}` : ''}
    >
      <Stack>
        <ProblemAlert error={error} title="The runs cannot be shown" />
        {loading && !data && <Loader aria-label="Loading runs" />}
        {data && data.total === 0 && (
          <Text size="sm" c="dimmed">
            This task has not run yet.
          </Text>
        )}
        {data && data.items.length > 0 && (
          <>
            <Text size="sm" c="dimmed">
              {data.total} run{data.total === 1 ? '' : 's'}, newest first. A run left in progress
              (the browser closed mid-run) ends as abandoned after a while.
            </Text>
            <ListTable
              label={task ? `Runs of ${task.name}` : 'Runs'}
              columns={['Started', 'By', 'Status', 'Device ID or reason', 'Ended']}
              minWidth={640}
            >
              {data.items.map((r) => (
                <Table.Tr key={r.id} data-testid={`run-${r.id}`}>
                  <Table.Td>{formatTime(r.startedAt)}</Table.Td>
                  <Table.Td>{r.startedBy}</Table.Td>
                  <Table.Td miw={120}>
                    <Badge variant="light" color={RUN_STATUS_LABELS[r.status].color}>
                      {RUN_STATUS_LABELS[r.status].label}
                    </Badge>
                  </Table.Td>
                  <Table.Td maw={320}>
                    <Outcome run={r} />
                  </Table.Td>
                  <Table.Td>{r.endedAt ? formatTime(r.endedAt) : '—'}</Table.Td>
                </Table.Tr>
              ))}
            </ListTable>
          </>
        )}
        {data && data.total > PAGE && (
          <Pagination
            total={Math.ceil(data.total / PAGE)}
            value={page}
            onChange={setPage}
            aria-label="Pages of runs"
            getControlProps={(c) => ({
              'aria-label': c === 'previous' ? 'Previous page' : 'Next page',
            })}
          />
        )}
      </Stack>
    </Drawer>
  );
}
