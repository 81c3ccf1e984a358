import { Code, Loader, Stack, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { ApiError } from '../api/api-client';
import { useApi } from '../api/api-context';
import { ProblemAlert } from '../components/problem-alert';
import type { Rollout, RolloutDevice, UpdateView } from '../firmware/firmware-types';
import { UpdateStatusBadge } from '../firmware/update-status-badge';
import { formatTime } from '../logs/audit-fns';

type State =
  | { kind: 'loading' }
  | { kind: 'failed'; error: ApiError }
  | {
      kind: 'done';
      update: UpdateView | null;
      entry: RolloutDevice | undefined;
    };

/**
 * A device's update status: the batch's current update and where this device is in it, with
 * the times it reported (GET /batches/:id/rollout?deviceId=…: one row, however big the batch). The running image's digest is the device's
 * own report.
 */
export function DeviceUpdate({
  batchId,
  deviceId,
  firmwareDigest,
}: {
  batchId: string;
  deviceId: string;
  firmwareDigest: string | null;
}) {
  const api = useApi();
  const [state, setState] = useState<State>({ kind: 'loading' });
  useEffect(() => {
    const ctrl = new AbortController();
    api
      .get<Rollout>(`/batches/${batchId}/rollout`, { query: { deviceId }, signal: ctrl.signal })
      .then((r) => {
        if (!ctrl.signal.aborted)
          setState({
            kind: 'done',
            update: r.update,
            entry: r.items.find((i) => i.deviceId === deviceId),
          });
      })
      .catch((err: unknown) => {
        if (ctrl.signal.aborted) return;
        if (err instanceof ApiError) setState({ kind: 'failed', error: err });
        else throw err;
      });
    return () => ctrl.abort();
  }, [api, batchId, deviceId]);

  const digest = firmwareDigest ? (
    <Text size="sm">
      Running image as the device reports it: <Code fz="xs">{firmwareDigest}</Code>
    </Text>
  ) : (
    <Text size="sm" c="dimmed">
      The device has not reported the digest of its running image.
    </Text>
  );

  if (state.kind === 'loading') return <Loader size="sm" aria-label="Loading the update status" />;
  if (state.kind === 'failed')
    return <ProblemAlert error={state.error} title="The update status cannot be shown" />;
  const { update, entry } = state;
  return (
    <Stack gap="xs" data-testid="device-update">
      {!update && (
        <Text size="sm">
          No firmware is assigned to this device&apos;s batch: no update to make.
        </Text>
      )}
      {update && (
        <Text size="sm">
          Batch update: <b>{update.firmwareName}</b> {update.version} (security version{' '}
          {update.securityVersion}), assigned {formatTime(update.createdAt)}.
        </Text>
      )}
      {update && entry && (
        <>
          <Text size="sm" component="div">
            Status: <UpdateStatusBadge status={entry.status} />
            {entry.reason ? ` — ${entry.reason}` : ''}
          </Text>
          <Text size="xs" c="dimmed">
            {[
              entry.downloadingAt && `downloading ${formatTime(entry.downloadingAt)}`,
              entry.installingAt && `installing ${formatTime(entry.installingAt)}`,
              entry.installedAt && `installed ${formatTime(entry.installedAt)}`,
              entry.failedAt && `failed ${formatTime(entry.failedAt)}`,
              entry.reportedAt && `last report ${formatTime(entry.reportedAt)}`,
            ]
              .filter(Boolean)
              .join(' · ') || `waiting since ${formatTime(entry.createdAt)}`}
          </Text>
        </>
      )}
      {update && !entry && (
        <Text size="sm" c="dimmed">
          This device is not in the update yet (it joins once enrolled).
        </Text>
      )}
      {digest}
    </Stack>
  );
}
