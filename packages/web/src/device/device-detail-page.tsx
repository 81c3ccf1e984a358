import {
  Anchor,
  Button,
  Code,
  CopyButton,
  Group,
  Loader,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { IconArrowLeft, IconBan } from '@tabler/icons-react';
import { useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { notifySuccess } from '../components/notify';
import { PageHeader } from '../components/page-header';
import { ProblemAlert } from '../components/problem-alert';
import { DeviceStateBadge } from '../devices/device-state-badge';
import { formatTime } from '../logs/audit-fns';
import { DeviceCertificates } from './device-certificates';
import { DeviceCloudObjects } from './device-cloud-objects';
import { canRevoke, daysUntil, formatSerial, hubSyncSummary } from './device-fns';
import {
  REVOCATION_REASONS,
  REVOCATION_REASON_LABELS,
  type DeviceDetail,
  type RevocationReason,
} from './device-types';
import { DeviceUpdate } from './device-update';
import { HubSyncTable } from './hub-sync-table';

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Paper withBorder p="sm" radius="md">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm" fw={600} component="div" data-testid={`fact-${label}`}>
        {children}
      </Text>
    </Paper>
  );
}

function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={id}>
      <Title order={2} size="h4" id={id} mb="sm">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

/**
 * One device (`/devices/:batchId/:deviceId`): its state and times, its certificates with
 * downloads, its update status, what was sent to its hub, and revocation with a reason (final;
 * the server ends its certificates, sessions and connections, and tells its hub).
 */
export function DeviceDetailPage() {
  const { batchId = '', deviceId = '' } = useParams();
  const api = useApi();
  const { data: d, error, loading, reload } = useApiQuery<DeviceDetail>(`/devices/${deviceId}`);
  const [revoking, setRevoking] = useState(false);
  const [reason, setReason] = useState<RevocationReason>('cessationOfOperation');

  const back = (
    <Anchor component={Link} to={`/devices/${d?.batchId ?? batchId}`} size="sm">
      <Group gap={4}>
        <IconArrowLeft size={14} aria-hidden />
        {d ? `Batch ${d.batchName}` : 'The batch'}
      </Group>
    </Anchor>
  );
  if (!d)
    return (
      <Stack>
        {back}
        <ProblemAlert error={error} title="The device cannot be shown" />
        {loading && <Loader aria-label="Loading the device" />}
      </Stack>
    );

  const now = new Date();
  const expiry = d.certNotAfter
    ? `${formatTime(d.certNotAfter)} (${daysUntil(d.certNotAfter, now) >= 0 ? `in ${daysUntil(d.certNotAfter, now)} days` : 'past'})`
    : '—';
  return (
    <>
      {back}
      <PageHeader
        title={`Device ${d.id.slice(0, 12)}…`}
        description={
          <>
            Batch{' '}
            <Anchor component={Link} to={`/devices/${d.batchId}`} size="sm">
              {d.batchName}
            </Anchor>{' '}
            · policy{' '}
            <Anchor component={Link} to="/policies" size="sm">
              {d.policyName}
            </Anchor>
          </>
        }
        actions={
          canRevoke(d) && (
            <Button
              color="red"
              variant="light"
              leftSection={<IconBan size={16} aria-hidden />}
              onClick={() => setRevoking(true)}
            >
              Revoke device
            </Button>
          )
        }
      />
      <Stack gap="lg">
        <Group gap="xs" wrap="nowrap">
          <Code style={{ wordBreak: 'break-all' }} data-testid="device-id">
            {d.id}
          </Code>
          <CopyButton value={d.id}>
            {({ copied, copy }) => (
              <Button size="compact-xs" variant="default" onClick={copy}>
                {copied ? 'Copied' : 'Copy ID'}
              </Button>
            )}
          </CopyButton>
        </Group>
        <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="sm">
          <Fact label="State">
            <DeviceStateBadge state={d.state} />
            {d.revocationReason && (
              <Text size="xs" c="dimmed">
                {d.revocationReason}
              </Text>
            )}
          </Fact>
          <Fact label="Last seen">{d.lastSeenAt ? formatTime(d.lastSeenAt) : 'never'}</Fact>
          <Fact label="Certificate expires">{expiry}</Fact>
          <Fact label="Hub sync">{hubSyncSummary(d.hubSync)}</Fact>
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
          <Paper withBorder p="sm" radius="md">
            <Text size="sm">Registered {formatTime(d.registeredAt)}</Text>
            <Text size="sm">Enrolled {d.enrolledAt ? formatTime(d.enrolledAt) : '—'}</Text>
            {d.renewedAt && <Text size="sm">Renewed {formatTime(d.renewedAt)}</Text>}
            {d.expiredAt && <Text size="sm">Expired {formatTime(d.expiredAt)}</Text>}
            {d.revokedAt && <Text size="sm">Revoked {formatTime(d.revokedAt)}</Text>}
          </Paper>
          <Paper withBorder p="sm" radius="md">
            <Text size="sm">Enrolment method: {d.enrolMethod ?? '—'}</Text>
            <Text size="sm">Identity key: {d.keyType ?? '—'}</Text>
            <Text size="sm">
              Current certificate:{' '}
              {d.currentSerial ? <Code fz="xs">{formatSerial(d.currentSerial)}</Code> : '—'}
            </Text>
            {d.renewAt && <Text size="sm">Renews from {formatTime(d.renewAt)}</Text>}
          </Paper>
        </SimpleGrid>
        <Section id="device-certificates" title="Certificates">
          <DeviceCertificates deviceId={d.id} certificates={d.certificates} />
        </Section>
        <Section id="device-update-title" title="Firmware update">
          <DeviceUpdate batchId={d.batchId} deviceId={d.id} firmwareDigest={d.firmwareDigest} />
        </Section>
        <Section id="device-hub-sync" title="Hub sync">
          <HubSyncTable entries={d.hubSync} />
          {/* Read again when the sync moves on (keyed on it), so both tell the same story. */}
          <DeviceCloudObjects
            key={`${d.state}:${d.hubSync.map((e) => `${e.id}=${e.status}`).join(',')}`}
            policyId={d.policyId}
            deviceId={d.id}
          />
        </Section>
      </Stack>
      <ConfirmDialog
        opened={revoking}
        title="Revoke device"
        confirmLabel="Revoke"
        onClose={() => setRevoking(false)}
        onConfirm={() => api.post(`/devices/${d.id}/revoke`, { reason })}
        onDone={() => {
          notifySuccess('The device is revoked.');
          reload();
        }}
      >
        <Stack gap="sm">
          <Text size="sm">
            Revoke device <Code fz="xs">{d.id.slice(0, 16)}…</Code>? Its certificates are revoked,
            its sessions and connections end and its hub is told. This is final: the device would
            have to be registered and enrolled again.
          </Text>
          <Select
            label="Reason"
            description="Written into the revocation list (CRL) and OCSP answers."
            allowDeselect={false}
            data={REVOCATION_REASONS.map((r) => ({ value: r, label: REVOCATION_REASON_LABELS[r] }))}
            value={reason}
            onChange={(r) => r && setReason(r as RevocationReason)}
            comboboxProps={{ withinPortal: false }}
          />
        </Stack>
      </ConfirmDialog>
    </>
  );
}
