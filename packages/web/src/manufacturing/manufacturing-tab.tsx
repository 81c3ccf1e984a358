import {
  ActionIcon,
  Badge,
  Button,
  EmptyState,
  Group,
  Loader,
  Modal,
  Paper,
  Progress,
  Stack,
  Table,
  Text,
  Tooltip,
  VisuallyHidden,
} from '@mantine/core';
import { IconBuildingFactory2, IconPlus, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { notifySuccess } from '../components/notify';
import { ProblemAlert } from '../components/problem-alert';
import type { Batch } from '../devices/batch-types';
import { formatTime } from '../logs/audit-fns';
import { CredentialForm } from './credential-form';
import { CredentialValueDialog } from './credential-value-dialog';
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
    <Stack>
      <Group justify="space-between" align="flex-start">
        <Text size="sm" c="dimmed" maw={720}>
          A production line station adds device IDs to one batch with a credential, without an
          administrator, until it expires or has added its maximum. Shown once when created; stored
          only as a hash.
        </Text>
        {items.length > 0 && create}
      </Group>
      <ProblemAlert error={error} title="Manufacturing credentials cannot be shown" />
      {loading && !data && <Loader aria-label="Loading manufacturing credentials" />}
      {data && items.length === 0 && (
        <Paper withBorder p="xl">
          <EmptyState
            icon={<IconBuildingFactory2 size={32} aria-hidden />}
            withIndicatorBackground
            title="No manufacturing credentials"
            description={
              noBatch
                ? 'Create a batch on the Devices screen first; then create a credential for the station that registers its devices.'
                : 'Create one for the station of a production line, for the batch it fills, for one shift or one order.'
            }
          >
            {create && <EmptyState.Actions>{create}</EmptyState.Actions>}
          </EmptyState>
        </Paper>
      )}
      {items.length > 0 && (
        <Paper withBorder p="xs">
          <Table.ScrollContainer minWidth={860}>
            <Table striped aria-label="Manufacturing credentials">
              <Table.Thead>
                <Table.Tr>
                  {COLUMNS.map((h) => (
                    <Table.Th key={h} scope="col">
                      {h}
                    </Table.Th>
                  ))}
                  <Table.Th scope="col">Value ends in</Table.Th>
                  <Table.Th scope="col">
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
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
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Paper>
      )}
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
      <CredentialValueDialog
        credential={created}
        batchName={created && batchName(created.batchId)}
        onClose={() => setCreated(undefined)}
      />
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
    </Stack>
  );
}
