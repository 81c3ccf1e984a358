import { Button, EmptyState, Loader, Paper, Stack } from '@mantine/core';
import { IconCpu, IconPlus, IconShieldCheck } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { notifySuccess } from '../components/notify';
import { PageHeader } from '../components/page-header';
import { ProblemAlert } from '../components/problem-alert';
import type { Policy } from '../policies/policy-types';
import { BatchDialog } from './batch-dialog';
import type { Batch } from './batch-types';
import { BatchesTable } from './batches-table';

type Dialog = { kind: 'create' } | { kind: 'edit' | 'delete'; batch: Batch } | undefined;

/** What to do first on an empty Devices screen: a policy if there is none, then a batch. */
function FirstSteps({ hasPolicy, onCreate }: { hasPolicy: boolean; onCreate: () => void }) {
  return (
    <Paper withBorder p="xl">
      <EmptyState
        icon={
          hasPolicy ? <IconCpu size={32} aria-hidden /> : <IconShieldCheck size={32} aria-hidden />
        }
        withIndicatorBackground
        title="No batches yet"
        description={
          hasPolicy
            ? 'Devices are registered in batches. Create a batch, then add device IDs to it one by one or as a file.'
            : 'Devices are registered in batches, and every batch follows a policy. Create a policy first (or from the batch dialog), then a batch.'
        }
      >
        <EmptyState.Actions>
          {!hasPolicy && (
            <Button component={Link} to="/policies" variant="default">
              Go to Policies
            </Button>
          )}
          <Button leftSection={<IconPlus size={18} aria-hidden />} onClick={onCreate}>
            Create batch
          </Button>
        </EmptyState.Actions>
      </EmptyState>
    </Paper>
  );
}

/**
 * Devices (D2): the batches with their device counts; a batch opens to its devices. Create,
 * change and delete batches; every signed-in user may.
 */
export function DevicesPage() {
  const api = useApi();
  const { data, error, loading, reload } = useApiQuery<{ items: Batch[] }>('/batches');
  const policies = useApiQuery<{ items: Policy[] }>('/policies');
  const [dialog, setDialog] = useState<Dialog>();
  const close = () => setDialog(undefined);
  const batches = data?.items ?? [];

  return (
    <>
      <PageHeader
        title="Devices"
        description="Batches of device identities and how far their devices got."
        actions={
          batches.length > 0 && (
            <Button
              leftSection={<IconPlus size={18} aria-hidden />}
              onClick={() => setDialog({ kind: 'create' })}
            >
              Create batch
            </Button>
          )
        }
      />
      <Stack>
        <ProblemAlert error={error} title="Batches cannot be shown" />
        {loading && !data && <Loader aria-label="Loading batches" />}
        {data && batches.length === 0 && policies.data && (
          <FirstSteps
            hasPolicy={policies.data.items.length > 0}
            onCreate={() => setDialog({ kind: 'create' })}
          />
        )}
        {batches.length > 0 && (
          <Paper withBorder p="xs">
            <BatchesTable
              batches={batches}
              onEdit={(batch) => setDialog({ kind: 'edit', batch })}
              onDelete={(batch) => setDialog({ kind: 'delete', batch })}
            />
          </Paper>
        )}
      </Stack>
      <BatchDialog
        opened={dialog?.kind === 'create' || dialog?.kind === 'edit'}
        batch={dialog?.kind === 'edit' ? dialog.batch : undefined}
        onClose={close}
        onSaved={(b) => {
          notifySuccess(`Batch ${b.name} is saved.`);
          reload();
          policies.reload();
        }}
      />
      <ConfirmDialog
        opened={dialog?.kind === 'delete'}
        title="Delete batch"
        onClose={close}
        onConfirm={() => api.delete(`/batches/${dialog?.kind === 'delete' ? dialog.batch.id : ''}`)}
        onDone={() => {
          notifySuccess('The batch is deleted.');
          reload();
        }}
      >
        Delete batch <b>{dialog?.kind === 'delete' ? dialog.batch.name : ''}</b> and its device IDs
        that never enrolled? A batch with enrolled devices, auth certs or tokens cannot be deleted.
      </ConfirmDialog>
    </>
  );
}
