import {
  Anchor,
  Button,
  Code,
  Group,
  Loader,
  Pagination,
  Select,
  Stack,
  Table,
  Text,
  VisuallyHidden,
} from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { notifySuccess } from '../components/notify';
import { ProblemAlert } from '../components/problem-alert';
import { formatTime } from '../logs/audit-fns';
import { pageCount } from './batch-fns';
import { DEVICE_STATES, type Device } from './batch-types';
import { DEVICE_STATE_LABELS, DeviceStateBadge } from './device-state-badge';

const when = (t: string | null) => (t ? formatTime(t) : '—');

/** The latest change of a device other than registration: revoked, expired, renewed or enrolled. */
function lastChange(d: Device): string {
  if (d.revokedAt) return `revoked ${formatTime(d.revokedAt)}`;
  if (d.expiredAt) return `expired ${formatTime(d.expiredAt)}`;
  if (d.renewedAt) return `renewed ${formatTime(d.renewedAt)}`;
  return '—';
}

/**
 * A batch's devices, a page at a time, filtered by state. A device that never enrolled can be
 * taken out of the batch; one that did must be revoked instead (the server says so).
 */
export function BatchDevices({
  batchId,
  version,
  onChanged,
}: {
  batchId: string;
  /** Bumped by the page when it changed the batch's devices. */
  version: number;
  onChanged: () => void;
}) {
  const api = useApi();
  const [state, setState] = useState<string | null>(null);
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState('50');
  const [removing, setRemoving] = useState<Device>();
  const size = Number(pageSize);
  const { data, error, loading, reload } = useApiQuery<{ items: Device[]; total: number }>(
    `/batches/${batchId}/devices`,
    { offset: (page - 1) * size, limit: size, state: state ?? undefined },
  );
  // The page above changed the batch (devices added): read the current page again.
  const seen = useRef(version);
  useEffect(() => {
    if (seen.current === version) return;
    seen.current = version;
    reload();
  }, [version, reload]);

  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <Group align="flex-end">
          <Select
            label="State"
            w={180}
            clearable
            placeholder="All states"
            data={DEVICE_STATES.map((s) => ({ value: s, label: DEVICE_STATE_LABELS[s] }))}
            value={state}
            onChange={(s) => {
              setState(s);
              setPage(1);
            }}
          />
          <Select
            label="Per page"
            w={110}
            allowDeselect={false}
            data={['25', '50', '100', '200']}
            value={pageSize}
            onChange={(s) => {
              setPageSize(s ?? '50');
              setPage(1);
            }}
          />
        </Group>
        {data && (
          <Text size="sm" c="dimmed" data-testid="devices-shown">
            {data.total === 0
              ? 'No devices'
              : `${(page - 1) * size + 1}–${(page - 1) * size + data.items.length} of ${data.total}`}
          </Text>
        )}
      </Group>
      <ProblemAlert error={error} title="Devices cannot be shown" />
      {loading && !data && <Loader aria-label="Loading devices" />}
      {data && data.total === 0 && (
        <Text size="sm" c="dimmed">
          {state
            ? 'No device of this batch is in that state.'
            : 'No device IDs in this batch yet. Add one above, or upload a list.'}
        </Text>
      )}
      {data && data.items.length > 0 && (
        <Table.ScrollContainer minWidth={860}>
          <Table striped aria-label="Devices of the batch">
            <Table.Thead>
              <Table.Tr>
                {['Device ID', 'State', 'Registered', 'Enrolled', 'Last change', 'Last seen'].map(
                  (h) => (
                    <Table.Th key={h} scope="col">
                      {h}
                    </Table.Th>
                  ),
                )}
                <Table.Th scope="col">
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.items.map((d) => (
                <Table.Tr key={d.id} data-testid={`device-${d.id}`}>
                  <Table.Td>
                    <Anchor
                      component={Link}
                      to={`/devices/${batchId}/${d.id}`}
                      aria-label={`Device ${d.id}`}
                    >
                      <Code style={{ wordBreak: 'break-all' }} fz="xs">
                        {d.id}
                      </Code>
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <DeviceStateBadge state={d.state} />
                  </Table.Td>
                  <Table.Td>{when(d.registeredAt)}</Table.Td>
                  <Table.Td>{when(d.enrolledAt)}</Table.Td>
                  <Table.Td>{lastChange(d)}</Table.Td>
                  <Table.Td>{when(d.lastSeenAt)}</Table.Td>
                  <Table.Td>
                    {d.state === 'registered' && (
                      <Button
                        size="xs"
                        variant="default"
                        aria-label={`Remove device ${d.id}`}
                        onClick={() => setRemoving(d)}
                      >
                        Remove
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {data && data.total > size && (
        <Pagination
          total={pageCount(data.total, size)}
          value={page}
          onChange={setPage}
          aria-label="Pages of devices"
          getControlProps={(c) => ({
            'aria-label': c === 'previous' ? 'Previous page' : 'Next page',
          })}
        />
      )}
      <ConfirmDialog
        opened={!!removing}
        title="Remove device ID"
        confirmLabel="Remove"
        onClose={() => setRemoving(undefined)}
        onConfirm={() => api.delete(`/batches/${batchId}/devices/${removing?.id ?? ''}`)}
        onDone={() => {
          notifySuccess('The device ID is removed from the batch.');
          reload();
          onChanged();
        }}
      >
        Take device <Code>{removing?.id}</Code> out of this batch? It has never enrolled; it could
        not enrol afterwards unless registered again.
      </ConfirmDialog>
    </Stack>
  );
}
