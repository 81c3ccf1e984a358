import {
  Accordion,
  Button,
  EmptyState,
  Group,
  Loader,
  Modal,
  Pagination,
  Paper,
  Select,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { IconFileCode, IconFilter, IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { notifySuccess } from '../components/notify';
import { PageHeader } from '../components/page-header';
import { ProblemAlert } from '../components/problem-alert';
import type { Batch } from '../devices/batch-types';
import { useIsAdministrator } from '../session/use-is-administrator';
import { AssignForm } from './assign-form';
import { BatchRollout } from './batch-rollout';
import { FirmwareFilter, type FirmwareFilterValue } from './firmware-filter';
import { pageOf, pathWithAttributes } from './firmware-fns';
import { FirmwareForm } from './firmware-form';
import { FirmwareTable } from './firmware-table';
import type { Firmware } from './firmware-types';

type Dialog =
  | { kind: 'add' }
  | { kind: 'edit' | 'delete' | 'assign'; firmware: Firmware }
  | { kind: 'unassign'; batch: Batch }
  | undefined;

/**
 * Firmwares (F1–F4): the images with their signatures and batches, filtered by attributes;
 * administrators upload, edit, delete and assign them to batches (the server refuses all four
 * to contributors). Below, the progress of every batch update.
 */
export function FirmwarePage() {
  const api = useApi();
  const admin = useIsAdministrator();
  const [filter, setFilter] = useState<FirmwareFilterValue>({ operator: 'and', filters: [] });
  const [showFilter, setShowFilter] = useState(false);
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState('25');
  const [dialog, setDialog] = useState<Dialog>();
  const [rolloutVersion, setRolloutVersion] = useState(0);
  const close = () => setDialog(undefined);
  const path = pathWithAttributes(
    '/firmware',
    { operator: filter.filters.length ? filter.operator : undefined },
    filter.filters,
  );
  const { data, error, loading, reload } = useApiQuery<{ items: Firmware[] }>(path);
  const batches = useApiQuery<{ items: Batch[] }>('/batches');
  const updating = (batches.data?.items ?? []).filter((b) => b.firmwareId);
  const items = data?.items ?? [];
  const size = Number(pageSize);
  const filtered = filter.filters.length > 0;
  const changed = () => {
    reload();
    batches.reload();
    setRolloutVersion((v) => v + 1);
  };

  const add = admin && (
    <Button
      leftSection={<IconPlus size={18} aria-hidden />}
      onClick={() => setDialog({ kind: 'add' })}
    >
      Add firmware
    </Button>
  );
  const firmwareOf = (d: Dialog) => (d && 'firmware' in d ? d.firmware : undefined);

  return (
    <>
      <PageHeader
        title="Firmwares"
        description="Images for over-the-air updates, their attributes and the keys that signed them."
        actions={
          <>
            <Button
              variant={showFilter || filtered ? 'light' : 'default'}
              leftSection={<IconFilter size={16} aria-hidden />}
              aria-expanded={showFilter}
              onClick={() => setShowFilter((s) => !s)}
            >
              {filtered ? `Filter (${filter.filters.length})` : 'Filter'}
            </Button>
            {items.length > 0 || filtered ? add : null}
          </>
        }
      />
      <Stack>
        {showFilter && (
          <FirmwareFilter
            value={filter}
            onApply={(f) => {
              setFilter(f);
              setPage(1);
            }}
          />
        )}
        <ProblemAlert error={error} title="Firmware cannot be shown" />
        {loading && !data && <Loader aria-label="Loading firmware" />}
        {data && items.length === 0 && (
          <Paper withBorder p="xl">
            <EmptyState
              icon={<IconFileCode size={32} aria-hidden />}
              withIndicatorBackground
              title={filtered ? 'No firmware matches the filter' : 'No firmware yet'}
              description={
                filtered
                  ? 'Change the filter, or clear it to see every image.'
                  : admin
                    ? 'Upload an image (binary or Intel HEX) with its version; then assign it to a batch with a signing key to update its devices.'
                    : 'An administrator uploads firmware images and assigns them to batches; they will be listed here.'
              }
            >
              {!filtered && add && <EmptyState.Actions>{add}</EmptyState.Actions>}
            </EmptyState>
          </Paper>
        )}
        {items.length > 0 && (
          <Paper withBorder p="xs">
            <FirmwareTable
              items={pageOf(items, page, size)}
              admin={admin}
              onAssign={(firmware) => setDialog({ kind: 'assign', firmware })}
              onEdit={(firmware) => setDialog({ kind: 'edit', firmware })}
              onDelete={(firmware) => setDialog({ kind: 'delete', firmware })}
            />
            <Group justify="space-between" mt="xs" px="xs">
              <Text size="sm" c="dimmed" data-testid="firmware-shown">
                {`${(page - 1) * size + 1}–${Math.min(page * size, items.length)} of ${items.length}`}
              </Text>
              <Group>
                {items.length > size && (
                  <Pagination
                    total={Math.ceil(items.length / size)}
                    value={page}
                    onChange={setPage}
                    aria-label="Pages of firmware"
                    getControlProps={(c) => ({
                      'aria-label': c === 'previous' ? 'Previous page' : 'Next page',
                    })}
                  />
                )}
                <Select
                  aria-label="Firmware per page"
                  w={90}
                  allowDeselect={false}
                  data={['25', '50', '100']}
                  value={pageSize}
                  onChange={(s) => {
                    setPageSize(s ?? '25');
                    setPage(1);
                  }}
                />
              </Group>
            </Group>
          </Paper>
        )}
        <section aria-labelledby="rollouts">
          <Title order={2} size="h4" id="rollouts" mb="sm">
            Updates by batch
          </Title>
          <ProblemAlert error={batches.error} title="Batches cannot be shown" />
          {batches.data && updating.length === 0 && (
            <Text size="sm" c="dimmed">
              No batch has firmware assigned.{' '}
              {admin
                ? 'Assign firmware to a batch (the rocket button in the list) to start its update.'
                : 'An administrator assigns firmware to a batch to start its update.'}
            </Text>
          )}
          {updating.length > 0 && (
            <Accordion variant="separated" multiple defaultValue={updating.map((b) => b.id)}>
              {updating.map((b) => (
                <Accordion.Item key={b.id} value={b.id}>
                  <Accordion.Control>Batch {b.name}</Accordion.Control>
                  <Accordion.Panel>
                    <BatchRollout batchId={b.id} reloadKey={rolloutVersion} />
                    {admin && (
                      <Group justify="flex-end" mt="sm">
                        <Button
                          variant="light"
                          color="red"
                          size="xs"
                          onClick={() => setDialog({ kind: 'unassign', batch: b })}
                        >
                          End update of {b.name}
                        </Button>
                      </Group>
                    )}
                  </Accordion.Panel>
                </Accordion.Item>
              ))}
            </Accordion>
          )}
        </section>
      </Stack>

      <Modal
        opened={dialog?.kind === 'add' || dialog?.kind === 'edit'}
        onClose={close}
        closeOnClickOutside={false}
        title={dialog?.kind === 'edit' ? `Edit firmware ${dialog.firmware.name}` : 'Add firmware'}
        size="lg"
      >
        {(dialog?.kind === 'add' || dialog?.kind === 'edit') && (
          <FirmwareForm
            firmware={firmwareOf(dialog)}
            onCancel={close}
            onSaved={(f) => {
              close();
              notifySuccess(`Firmware ${f.name} is saved.`);
              changed();
            }}
          />
        )}
      </Modal>
      <Modal
        opened={dialog?.kind === 'assign'}
        onClose={close}
        title="Assign firmware to a batch"
        size="lg"
      >
        {dialog?.kind === 'assign' && (
          <AssignForm
            firmware={dialog.firmware}
            onCancel={close}
            onAssigned={(u, batchName) => {
              close();
              notifySuccess(`${u.firmwareName} ${u.version} is assigned to batch ${batchName}.`);
              changed();
            }}
          />
        )}
      </Modal>
      <ConfirmDialog
        opened={dialog?.kind === 'delete'}
        title="Delete firmware"
        onClose={close}
        onConfirm={() => api.delete(`/firmware/${firmwareOf(dialog)?.id ?? ''}`)}
        onDone={() => {
          notifySuccess('The firmware is deleted.');
          changed();
        }}
      >
        Delete firmware <b>{firmwareOf(dialog)?.name}</b> and its signatures? Firmware assigned to a
        batch cannot be deleted.
      </ConfirmDialog>
      <ConfirmDialog
        opened={dialog?.kind === 'unassign'}
        title="End update"
        confirmLabel="End update"
        onClose={close}
        onConfirm={() =>
          api.delete(`/batches/${dialog?.kind === 'unassign' ? dialog.batch.id : ''}/firmware`)
        }
        onDone={() => {
          notifySuccess('The update is ended.');
          changed();
        }}
      >
        End the update of batch <b>{dialog?.kind === 'unassign' ? dialog.batch.name : ''}</b>? Its
        devices are no longer told about it; devices that installed it keep it.
      </ConfirmDialog>
    </>
  );
}
