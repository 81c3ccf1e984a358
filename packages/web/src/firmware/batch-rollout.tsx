import {
  Anchor,
  Code,
  Group,
  Loader,
  Pagination,
  Progress,
  Select,
  Stack,
  Table,
  Text,
  Tooltip,
} from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { useApiQuery } from '../api/use-api-query';
import { ProblemAlert } from '../components/problem-alert';
import { formatTime } from '../logs/audit-fns';
import { rolloutShares } from './firmware-fns';
import { UPDATE_STATUSES, type Rollout, type UpdateStatus } from './firmware-types';
import { UPDATE_COLOURS, UpdateStatusBadge } from './update-status-badge';

const PAGE = 25;

/**
 * The progress of a batch's firmware update (GET /batches/:id/rollout): which image, counts per
 * status as a bar and in words, and the devices a page at a time, each linked to its page.
 * `reloadKey` changes when the caller knows the rollout changed.
 */
export function BatchRollout({ batchId, reloadKey = 0 }: { batchId: string; reloadKey?: number }) {
  const [status, setStatus] = useState<UpdateStatus | null>(null);
  const [page, setPage] = useState(1);
  const { data, error, loading, reload } = useApiQuery<Rollout>(`/batches/${batchId}/rollout`, {
    offset: (page - 1) * PAGE,
    limit: PAGE,
    status: status ?? undefined,
  });
  const seen = useRef(reloadKey);
  useEffect(() => {
    if (seen.current === reloadKey) return;
    seen.current = reloadKey;
    reload();
  }, [reloadKey, reload]);

  if (!data)
    return (
      <>
        <ProblemAlert error={error} title="The update progress cannot be shown" />
        {loading && <Loader size="sm" aria-label="Loading the update progress" />}
      </>
    );
  const { update, counts } = data;
  if (!update)
    return (
      <Text size="sm" c="dimmed">
        No firmware is assigned to this batch, so its devices have no update to make.
      </Text>
    );
  const shares = rolloutShares(counts);
  const summary = shares
    .filter((s) => s.count > 0 && s.status !== 'installed')
    .map((s) => `${s.count} ${s.status}`)
    .join(', ');
  return (
    <Stack gap="sm" data-testid={`rollout-${batchId}`}>
      <Text size="sm">
        <b>
          {update.firmwareName} {update.version}
        </b>{' '}
        (security version {update.securityVersion}), assigned {formatTime(update.createdAt)} by{' '}
        {update.createdBy}.
      </Text>
      <Progress.Root size={18} aria-hidden>
        {shares
          .filter((s) => s.percent > 0)
          .map((s) => (
            <Tooltip key={s.status} label={`${s.count} ${s.status}`}>
              <Progress.Section value={s.percent} color={UPDATE_COLOURS[s.status]} />
            </Tooltip>
          ))}
      </Progress.Root>
      <Text size="sm" data-testid="rollout-summary">
        {counts.total === 0
          ? 'The batch has no enrolled device to update yet.'
          : `${counts.installed} of ${counts.total} installed${summary ? ` (${summary})` : ''}.`}
      </Text>
      <Group align="flex-end" justify="space-between">
        <Select
          label="Update status"
          w={180}
          clearable
          placeholder="All statuses"
          data={[...UPDATE_STATUSES]}
          value={status}
          onChange={(s) => {
            setStatus(s as UpdateStatus | null);
            setPage(1);
          }}
        />
        {loading && <Loader size="xs" aria-label="Loading" />}
      </Group>
      {data.items.length === 0 ? (
        <Text size="sm" c="dimmed">
          {status ? 'No device of this batch is in that status.' : 'No device has this update yet.'}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={700}>
          <Table striped aria-label="Devices of the update">
            <Table.Thead>
              <Table.Tr>
                {['Device ID', 'Status', 'Reason', 'Last change', 'Reported'].map((h) => (
                  <Table.Th key={h} scope="col">
                    {h}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.items.map((d) => (
                <Table.Tr key={d.deviceId}>
                  <Table.Td>
                    <Anchor
                      component={Link}
                      to={`/devices/${batchId}/${d.deviceId}`}
                      aria-label={`Device ${d.deviceId}`}
                    >
                      <Code fz="xs">{d.deviceId.slice(0, 16)}…</Code>
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <UpdateStatusBadge status={d.status} />
                  </Table.Td>
                  <Table.Td>{d.reason ?? '—'}</Table.Td>
                  <Table.Td>{formatTime(d.updatedAt)}</Table.Td>
                  <Table.Td>{d.reportedAt ? formatTime(d.reportedAt) : '—'}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {data.total > PAGE && (
        <Pagination
          total={Math.ceil(data.total / PAGE)}
          value={page}
          onChange={setPage}
          aria-label="Pages of update devices"
          getControlProps={(c) => ({
            'aria-label': c === 'previous' ? 'Previous page' : 'Next page',
          })}
        />
      )}
    </Stack>
  );
}
