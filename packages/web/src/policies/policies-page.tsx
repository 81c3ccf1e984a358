import { Button, EmptyState, Loader, Modal, Paper, Stack } from '@mantine/core';
import { IconPlus, IconShieldCheck } from '@tabler/icons-react';
import { useState } from 'react';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { notifySuccess } from '../components/notify';
import { PageHeader } from '../components/page-header';
import { ProblemAlert } from '../components/problem-alert';
import type { CaCertificate } from '../hsm/hsm-types';
import { PoliciesTable } from './policies-table';
import { PolicyForm } from './policy-form';
import type { Policy } from './policy-types';

type Dialog = { kind: 'create' } | { kind: 'edit' | 'delete'; policy: Policy } | undefined;

/**
 * Policies (D3): how the devices of a batch get their certificates and where they connect.
 * Every signed-in user may read and change them; a policy a batch uses cannot be deleted (the
 * server says which batch).
 */
export function PoliciesPage() {
  const api = useApi();
  const { data, error, loading, reload } = useApiQuery<{ items: Policy[] }>('/policies');
  const cas = useApiQuery<{ certificates: CaCertificate[] }>('/pki/certificates', {
    kind: 'issuing',
  });
  const [dialog, setDialog] = useState<Dialog>();
  const close = () => setDialog(undefined);
  const create = (
    <Button
      leftSection={<IconPlus size={18} aria-hidden />}
      onClick={() => setDialog({ kind: 'create' })}
    >
      Create policy
    </Button>
  );

  return (
    <>
      <PageHeader
        title="Policies"
        description="Certificate lifetimes, accepted keys and connection type for the devices of a batch."
        actions={data && data.items.length > 0 && create}
      />
      <Stack>
        <ProblemAlert error={error} title="Policies cannot be shown" />
        {loading && !data && <Loader aria-label="Loading policies" />}
        {data && data.items.length === 0 && (
          <Paper withBorder p="xl">
            <EmptyState
              icon={<IconShieldCheck size={32} aria-hidden />}
              withIndicatorBackground
              title="No policies yet"
              description="Every batch of devices follows a policy. Create one first, then a batch on the Devices screen."
            >
              <EmptyState.Actions>{create}</EmptyState.Actions>
            </EmptyState>
          </Paper>
        )}
        {data && data.items.length > 0 && (
          <Paper withBorder p="xs">
            <PoliciesTable
              policies={data.items}
              cas={cas.data?.certificates ?? []}
              onEdit={(policy) => setDialog({ kind: 'edit', policy })}
              onDelete={(policy) => setDialog({ kind: 'delete', policy })}
            />
          </Paper>
        )}
      </Stack>
      <Modal
        opened={dialog?.kind === 'create' || dialog?.kind === 'edit'}
        onClose={close}
        title={dialog?.kind === 'edit' ? `Edit policy ${dialog.policy.name}` : 'Create policy'}
        size="lg"
      >
        {(dialog?.kind === 'create' || dialog?.kind === 'edit') && (
          <PolicyForm
            policy={dialog.kind === 'edit' ? dialog.policy : undefined}
            onCancel={close}
            onSaved={(p) => {
              close();
              notifySuccess(`Policy ${p.name} is saved.`);
              reload();
            }}
          />
        )}
      </Modal>
      <ConfirmDialog
        opened={dialog?.kind === 'delete'}
        title="Delete policy"
        onClose={close}
        onConfirm={() =>
          api.delete(`/policies/${dialog?.kind === 'delete' ? dialog.policy.id : ''}`)
        }
        onDone={() => {
          notifySuccess('The policy is deleted.');
          reload();
        }}
      >
        Delete policy <b>{dialog?.kind === 'delete' ? dialog.policy.name : ''}</b>? A policy that a
        batch uses cannot be deleted.
      </ConfirmDialog>
    </>
  );
}
