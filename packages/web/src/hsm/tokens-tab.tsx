import { ActionIcon, Badge, Button, Modal, Table, Tooltip } from '@mantine/core';
import { IconKey, IconPlus, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { notifySuccess } from '../components/notify';
import { ValueOnceDialog } from '../components/value-once-dialog';
import { ListSection } from '../components/list-section';
import { ListTable } from '../components/list-table';
import type { Batch } from '../devices/batch-types';
import { formatTime } from '../logs/audit-fns';
import { tokenStatus } from './hsm-fns';
import type { EnrolmentToken } from './hsm-types';
import { TokenForm, type CreatedToken } from './token-form';

const STATUS_COLOUR = { valid: 'green.9', 'not yet valid': 'gray.7', expired: 'red.9' } as const;

/**
 * Enrolment tokens (P6), administrators only (the server refuses the list to anyone else, and
 * this tab then shows its refusal). Values are never listed: only shown once at creation.
 */
export function TokensTab() {
  const api = useApi();
  const { data, error, loading, reload } = useApiQuery<{ items: EnrolmentToken[] }>(
    '/enrolment-tokens',
  );
  const batches = useApiQuery<{ items: Batch[] }>('/batches');
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedToken>();
  const [removing, setRemoving] = useState<EnrolmentToken>();
  const batchName = (id: string) => batches.data?.items.find((b) => b.id === id)?.name ?? id;
  const items = data?.items ?? [];
  const now = new Date();

  return (
    <>
      <ListSection
        intro="128-bit random values made by the platform, for devices with factory certificates whose auth cert requires a token. Shown once when created; stored only as a hash."
        action={
          !error && (
            <Button
              leftSection={<IconPlus size={16} aria-hidden />}
              onClick={() => setCreating(true)}
            >
              Create token
            </Button>
          )
        }
        error={error}
        errorTitle="Tokens cannot be shown"
        loading={loading}
        loadingLabel="Loading tokens"
        items={data?.items}
        empty={{
          icon: <IconKey size={32} aria-hidden />,
          title: 'No tokens',
          description:
            "Create one for a batch whose auth cert requires a token, then build it into that batch's firmware.",
        }}
      >
        <ListTable
          label="Tokens"
          columns={['Name', 'Batch', 'Not before', 'Not after', 'Status', 'Created']}
          actions="hidden"
          minWidth={760}
        >
          {items.map((t) => {
            const status = tokenStatus(t, now);
            return (
              <Table.Tr key={t.id} data-testid={`token-${t.name}`}>
                <Table.Td fw={500}>{t.name}</Table.Td>
                <Table.Td>{batchName(t.batchId)}</Table.Td>
                <Table.Td>{formatTime(t.notBefore)}</Table.Td>
                <Table.Td>{formatTime(t.notAfter)}</Table.Td>
                <Table.Td>
                  <Badge color={STATUS_COLOUR[status]} style={{ minWidth: 'max-content' }}>
                    {status}
                  </Badge>
                </Table.Td>
                <Table.Td>{formatTime(t.createdAt)}</Table.Td>
                <Table.Td>
                  <Tooltip label="Delete">
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={`Delete token ${t.name}`}
                      onClick={() => setRemoving(t)}
                    >
                      <IconTrash size={18} aria-hidden />
                    </ActionIcon>
                  </Tooltip>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </ListTable>
      </ListSection>
      <Modal opened={creating} onClose={() => setCreating(false)} title="Create token" size="lg">
        {creating && (
          <TokenForm
            batches={batches.data?.items ?? []}
            onCancel={() => setCreating(false)}
            onCreated={(t) => {
              setCreating(false);
              setCreated(t);
              reload();
            }}
          />
        )}
      </Modal>
      <ValueOnceDialog
        value={created?.value}
        title={`Token ${created?.name ?? ''}`}
        valueTestId="new-token-value"
        onClose={() => setCreated(undefined)}
      >
        Copy the value now and put it in the firmware of the batch’s devices. The platform keeps
        only its hash and cannot show it again. It is a second factor: it never enrols a device on
        its own.
      </ValueOnceDialog>
      <ConfirmDialog
        opened={!!removing}
        title="Delete token"
        onClose={() => setRemoving(undefined)}
        onConfirm={() => api.delete(`/enrolment-tokens/${removing?.id ?? ''}`)}
        onDone={() => {
          notifySuccess('The token is deleted.');
          reload();
        }}
      >
        Delete token <b>{removing?.name}</b>? Devices presenting it can no longer enrol.
      </ConfirmDialog>
    </>
  );
}
