import {
  ActionIcon,
  Badge,
  Button,
  Code,
  Modal,
  Progress,
  Table,
  Text,
  Tooltip,
} from '@mantine/core';
import { IconBuildingFactory2, IconPlus, IconTrash } from '@tabler/icons-react';
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
import { CredentialForm } from './credential-form';
import { STATUS_COLOURS, usage } from './manufacturing-fns';
import type { CreatedCredential, ManufacturingCredential } from './manufacturing-types';

const COLUMNS = ['Name', 'Batch', 'Devices added', 'Not after', 'Status', 'Last used'];

/**
 * Manufacturing credentials (administrators only; the server refuses the list to anyone else,
 * and this tab then shows its refusal). Values are never listed: only shown once at creation.
 */
export function ManufacturingTab() {
  const api = useApi();
  const { data, error, loading, reload } = useApiQuery<{ items: ManufacturingCredential[] }>(
    '/manufacturing-credentials',
  );
  const batches = useApiQuery<{ items: Batch[] }>('/batches');
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedCredential>();
  const [removing, setRemoving] = useState<ManufacturingCredential>();
  const batchName = (id: string) => batches.data?.items.find((b) => b.id === id)?.name ?? id;
  const items = data?.items ?? [];
  const noBatch = batches.data && batches.data.items.length === 0;

  const create = !error && (
    <Button leftSection={<IconPlus size={16} aria-hidden />} onClick={() => setCreating(true)}>
      Create credential
    </Button>
  );

  return (
    <>
      <ListSection
        intro="A production line station adds device IDs to one batch with a credential, without an administrator, until it expires or has added its maximum. Shown once when created; stored only as a hash."
        action={items.length > 0 && create}
        error={error}
        errorTitle="Manufacturing credentials cannot be shown"
        loading={loading}
        loadingLabel="Loading manufacturing credentials"
        items={data?.items}
        empty={{
          icon: <IconBuildingFactory2 size={32} aria-hidden />,
          title: 'No manufacturing credentials',
          description: noBatch
            ? 'Create a batch on the Devices screen first; then create a credential for the station that registers its devices.'
            : 'Create one for the station of a production line, for the batch it fills, for one shift or one order.',
          action: create,
        }}
      >
        <ListTable
          label="Manufacturing credentials"
          columns={[...COLUMNS, 'Value ends in']}
          actions="hidden"
          minWidth={860}
        >
          {items.map((c) => {
            const u = usage(c);
            return (
              <Table.Tr key={c.id} data-testid={`credential-${c.name}`}>
                <Table.Td fw={500}>{c.name}</Table.Td>
                <Table.Td>{batchName(c.batchId)}</Table.Td>
                <Table.Td miw={140}>
                  <Text size="sm">{u.text}</Text>
                  <Progress
                    value={u.percent}
                    size="sm"
                    aria-label={`${c.name}: ${u.text} devices added`}
                  />
                </Table.Td>
                <Table.Td>{formatTime(c.notAfter)}</Table.Td>
                <Table.Td>
                  <Badge color={STATUS_COLOURS[c.status]} style={{ minWidth: 'max-content' }}>
                    {c.status}
                  </Badge>
                </Table.Td>
                <Table.Td>{c.lastUsedAt ? formatTime(c.lastUsedAt) : 'never'}</Table.Td>
                <Table.Td>
                  <Text size="sm" ff="monospace">
                    …{c.hint}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Tooltip label="Delete">
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={`Delete credential ${c.name}`}
                      onClick={() => setRemoving(c)}
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
      <Modal
        opened={creating}
        onClose={() => setCreating(false)}
        closeOnClickOutside={false}
        title="Create manufacturing credential"
        size="lg"
      >
        {creating && (
          <CredentialForm
            batches={batches.data?.items ?? []}
            onCancel={() => setCreating(false)}
            onCreated={(c) => {
              setCreating(false);
              setCreated(c);
              reload();
            }}
          />
        )}
      </Modal>
      <ValueOnceDialog
        value={created?.value}
        title={`Manufacturing credential ${created?.name ?? ''}`}
        valueTestId="new-credential-value"
        onClose={() => setCreated(undefined)}
      >
        Copy the value now and give it to the line station (for example to{' '}
        <Code>trustlink-agent manufacture</Code>). The platform keeps only its hash and cannot show
        it again: if it is lost, delete the credential and create another. It adds device IDs to{' '}
        {created ? <b>{batchName(created.batchId)}</b> : 'its batch'} only, and nothing else.
      </ValueOnceDialog>
      <ConfirmDialog
        opened={!!removing}
        title="Delete manufacturing credential"
        onClose={() => setRemoving(undefined)}
        onConfirm={() => api.delete(`/manufacturing-credentials/${removing?.id ?? ''}`)}
        onDone={() => {
          notifySuccess('The manufacturing credential is deleted.');
          reload();
        }}
      >
        Delete manufacturing credential <b>{removing?.name}</b>? Stations holding it are refused
        from their next request on; device IDs it added stay in the batch.
      </ConfirmDialog>
    </>
  );
}
