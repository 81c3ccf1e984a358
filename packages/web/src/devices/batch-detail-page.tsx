import {
  Anchor,
  Button,
  Group,
  Loader,
  Modal,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { IconArrowLeft, IconPencil, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { notifySuccess } from '../components/notify';
import { PageHeader } from '../components/page-header';
import { ProblemAlert } from '../components/problem-alert';
import { AssignForm } from '../firmware/assign-form';
import { BatchRollout } from '../firmware/batch-rollout';
import { useIsAdministrator } from '../session/use-is-administrator';
import { AddDeviceForm } from './add-device-form';
import { BatchDevices } from './batch-devices';
import { BatchDialog } from './batch-dialog';
import { describeFilter } from './batch-fns';
import type { Batch } from './batch-types';
import { DeviceUpload } from './device-upload';

function Figure({ label, value }: { label: string; value: number }) {
  return (
    <Paper withBorder p="sm" radius="md">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fz={22} fw={700} data-testid={`batch-${label.toLowerCase()}`}>
        {value}
      </Text>
    </Paper>
  );
}

/**
 * One batch (`/devices/:batchId`): its counts, adding device IDs (one, or a file), its devices
 * page by page, and changing or deleting the batch.
 */
export function BatchDetailPage() {
  const { batchId = '' } = useParams();
  const api = useApi();
  const navigate = useNavigate();
  const { data: batch, error, loading, reload } = useApiQuery<Batch>(`/batches/${batchId}`);
  const [version, setVersion] = useState(0);
  const [dialog, setDialog] = useState<'edit' | 'delete'>();
  const [assigning, setAssigning] = useState(false);
  const admin = useIsAdministrator();
  const changed = () => {
    reload();
    setVersion((v) => v + 1);
  };

  const back = (
    <Anchor component={Link} to="/devices" size="sm">
      <Group gap={4}>
        <IconArrowLeft size={14} aria-hidden />
        All batches
      </Group>
    </Anchor>
  );
  if (!batch) {
    return (
      <Stack>
        {back}
        <ProblemAlert error={error} title="The batch cannot be shown" />
        {loading && <Loader aria-label="Loading the batch" />}
      </Stack>
    );
  }
  return (
    <>
      {back}
      <PageHeader
        title={`Batch ${batch.name}`}
        description={
          <>
            Policy{' '}
            <Anchor component={Link} to="/policies" size="sm">
              {batch.policyName}
            </Anchor>{' '}
            · attribute filter: {describeFilter(batch.attributeFilter)}
          </>
        }
        actions={
          <>
            <Button
              variant="default"
              leftSection={<IconPencil size={16} aria-hidden />}
              onClick={() => setDialog('edit')}
            >
              Edit batch
            </Button>
            <Button
              color="red"
              variant="light"
              leftSection={<IconTrash size={16} aria-hidden />}
              onClick={() => setDialog('delete')}
            >
              Delete batch
            </Button>
          </>
        }
      />
      <Stack gap="lg">
        <SimpleGrid cols={{ base: 2, sm: 5 }} spacing="sm" aria-label="Device counts">
          <Figure label="Devices" value={batch.counts.devices} />
          <Figure label="Enrolled" value={batch.counts.enrolled} />
          <Figure label="Renewed" value={batch.counts.renewed} />
          <Figure label="Expired" value={batch.counts.expired} />
          <Figure label="Revoked" value={batch.counts.revoked} />
        </SimpleGrid>
        <Paper withBorder p="md" component="section" aria-labelledby="add-devices">
          <Title order={2} size="h4" id="add-devices" mb="sm">
            Add devices
          </Title>
          <Stack gap="lg" maw={900}>
            <AddDeviceForm batchId={batch.id} onAdded={changed} />
            <DeviceUpload batchId={batch.id} onUploaded={changed} />
          </Stack>
        </Paper>
        <Paper withBorder p="md" component="section" aria-labelledby="batch-update">
          <Title order={2} size="h4" id="batch-update" mb="sm">
            Firmware update
          </Title>
          <BatchRollout batchId={batch.id} reloadKey={version} />
          <Group justify="space-between" mt="sm">
            <Text size="xs" c="dimmed">
              Images are uploaded on the{' '}
              <Anchor component={Link} to="/firmwares" size="xs">
                Firmwares
              </Anchor>{' '}
              screen.
            </Text>
            {admin && (
              <Button size="xs" variant="default" onClick={() => setAssigning(true)}>
                {batch.firmwareId ? 'Change firmware' : 'Assign firmware'}
              </Button>
            )}
          </Group>
        </Paper>
        <Paper withBorder p="md" component="section" aria-labelledby="batch-devices">
          <Title order={2} size="h4" id="batch-devices" mb="sm">
            Devices
          </Title>
          <BatchDevices batchId={batch.id} version={version} onChanged={reload} />
        </Paper>
      </Stack>
      <BatchDialog
        opened={dialog === 'edit'}
        batch={batch}
        onClose={() => setDialog(undefined)}
        onSaved={(b) => {
          notifySuccess(`Batch ${b.name} is saved.`);
          reload();
        }}
      />
      <Modal
        opened={assigning}
        onClose={() => setAssigning(false)}
        title={`Firmware for batch ${batch.name}`}
        size="lg"
      >
        {assigning && (
          <AssignForm
            batch={batch}
            onCancel={() => setAssigning(false)}
            onAssigned={(u) => {
              setAssigning(false);
              notifySuccess(`${u.firmwareName} ${u.version} is assigned to this batch.`);
              changed();
            }}
          />
        )}
      </Modal>
      <ConfirmDialog
        opened={dialog === 'delete'}
        title="Delete batch"
        onClose={() => setDialog(undefined)}
        onConfirm={() => api.delete(`/batches/${batch.id}`)}
        onDone={() => {
          notifySuccess(`Batch ${batch.name} is deleted.`);
          void navigate('/devices');
        }}
      >
        Delete batch <b>{batch.name}</b> and its {batch.counts.devices} device IDs? A batch with
        enrolled devices, auth certs or tokens cannot be deleted.
      </ConfirmDialog>
    </>
  );
}
