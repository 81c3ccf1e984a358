import {
  ActionIcon,
  Badge,
  Button,
  EmptyState,
  Group,
  Loader,
  Paper,
  Stack,
  Table,
  Tooltip,
  VisuallyHidden,
} from '@mantine/core';
import { IconBrandDatabricks, IconHistory, IconPlayerPlay, IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { notifySuccess } from '../components/notify';
import { PageHeader } from '../components/page-header';
import { ProblemAlert } from '../components/problem-alert';
import { useSession } from '../session/session-context';
import { BOOTLOADER_LABELS, DEVICE_TYPE_LABELS, type Task } from './provisioning-types';
import { RunDialog } from './run-dialog';
import { RunsDrawer } from './runs-drawer';
import { TaskDialog } from './task-dialog';
import { DeleteAction, EditAction } from '../components/row-actions';

type Dialog =
  { kind: 'create' } | { kind: 'edit' | 'delete' | 'run' | 'runs'; task: Task } | undefined;

/** What to do on an empty screen: who can make a task, and what it needs first. */
function FirstSteps({ admin, onCreate }: { admin: boolean; onCreate: () => void }) {
  return (
    <Paper withBorder p="xl">
      <EmptyState
        icon={<IconBrandDatabricks size={32} aria-hidden />}
        withIndicatorBackground
        title="No provisioning tasks yet"
        description={
          admin
            ? 'A task says what to flash onto a USB-connected ESP32 (bootloader, partition table, initial enrolment firmware, all from Firmwares) and which batch the device ID joins. Upload those images first, then create a task and run it here for each device.'
            : 'An administrator creates provisioning tasks; you can then run them here for each USB-connected device.'
        }
      >
        {admin && (
          <EmptyState.Actions>
            <Button component={Link} to="/firmwares" variant="default">
              Go to Firmwares
            </Button>
            <Button leftSection={<IconPlus size={18} aria-hidden />} onClick={onCreate}>
              New task
            </Button>
          </EmptyState.Actions>
        )}
      </EmptyState>
    </Paper>
  );
}

/**
 * Provisioning (W3): tasks that flash a device over Web Serial and add its identity to a batch.
 * Administrators create, edit and delete tasks; every signed-in user runs them and sees their
 * runs.
 */
export function ProvisioningPage() {
  const api = useApi();
  const { user } = useSession();
  const admin = user?.role === 'administrator';
  const { data, error, loading, reload } = useApiQuery<{ items: Task[] }>('/provisioning-tasks');
  const [dialog, setDialog] = useState<Dialog>();
  const close = () => setDialog(undefined);
  const tasks = data?.items ?? [];

  return (
    <>
      <PageHeader
        title="Provisioning"
        description="Flash a USB-connected device with its bootloader and initial enrolment firmware, and add its identity to a batch."
        actions={
          admin &&
          tasks.length > 0 && (
            <Button
              leftSection={<IconPlus size={18} aria-hidden />}
              onClick={() => setDialog({ kind: 'create' })}
            >
              New task
            </Button>
          )
        }
      />
      <Stack>
        <ProblemAlert error={error} title="Provisioning tasks cannot be shown" />
        {loading && !data && <Loader aria-label="Loading provisioning tasks" />}
        {data && tasks.length === 0 && (
          <FirstSteps admin={admin} onCreate={() => setDialog({ kind: 'create' })} />
        )}
        {tasks.length > 0 && (
          <Paper withBorder p="xs">
            <Table.ScrollContainer minWidth={720}>
              <Table striped highlightOnHover aria-label="Provisioning tasks">
                <Table.Thead>
                  <Table.Tr>
                    {[
                      'Name',
                      'Device type',
                      'Bootloader',
                      'Initial enrolment firmware',
                      'Batch',
                    ].map((h) => (
                      <Table.Th key={h} scope="col">
                        {h}
                      </Table.Th>
                    ))}
                    <Table.Th scope="col">
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {tasks.map((t) => (
                    <Table.Tr key={t.id} data-testid={`task-${t.name}`}>
                      <Table.Td fw={500}>{t.name}</Table.Td>
                      <Table.Td>{DEVICE_TYPE_LABELS[t.deviceType]}</Table.Td>
                      <Table.Td>
                        <Badge
                          variant="light"
                          color={t.bootloaderKind === 'release' ? 'red' : 'blue'}
                        >
                          {BOOTLOADER_LABELS[t.bootloaderKind]}
                        </Badge>
                      </Table.Td>
                      <Table.Td>{t.ief.name}</Table.Td>
                      <Table.Td>{t.batch.name}</Table.Td>
                      <Table.Td>
                        <Group gap={4} justify="flex-end" wrap="nowrap">
                          <Button
                            size="compact-sm"
                            leftSection={<IconPlayerPlay size={14} aria-hidden />}
                            onClick={() => setDialog({ kind: 'run', task: t })}
                            aria-label={`Run ${t.name}`}
                          >
                            Run
                          </Button>
                          <Tooltip label="Runs">
                            <ActionIcon
                              variant="subtle"
                              aria-label={`Runs of ${t.name}`}
                              onClick={() => setDialog({ kind: 'runs', task: t })}
                            >
                              <IconHistory size={16} aria-hidden />
                            </ActionIcon>
                          </Tooltip>
                          {admin && (
                            <>
                              <EditAction
                                name={t.name}
                                onClick={() => setDialog({ kind: 'edit', task: t })}
                                size={16}
                              />
                              <DeleteAction
                                name={t.name}
                                onClick={() => setDialog({ kind: 'delete', task: t })}
                                size={16}
                              />
                            </>
                          )}
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Paper>
        )}
      </Stack>
      <TaskDialog
        opened={dialog?.kind === 'create' || dialog?.kind === 'edit'}
        task={dialog?.kind === 'edit' ? dialog.task : undefined}
        onClose={close}
        onSaved={(t) => {
          notifySuccess(`Task ${t.name} is saved.`);
          reload();
        }}
      />
      <RunDialog task={dialog?.kind === 'run' ? dialog.task : undefined} onClose={close} />
      <RunsDrawer task={dialog?.kind === 'runs' ? dialog.task : undefined} onClose={close} />
      <ConfirmDialog
        opened={dialog?.kind === 'delete'}
        title="Delete task"
        onClose={close}
        onConfirm={() =>
          api.delete(`/provisioning-tasks/${dialog?.kind === 'delete' ? dialog.task.id : ''}`)
        }
        onDone={() => {
          notifySuccess('The task is deleted.');
          reload();
        }}
      >
        Delete task <b>{dialog?.kind === 'delete' ? dialog.task.name : ''}</b> and its run history?
        Devices it provisioned stay in their batch; the audit log keeps every run.
      </ConfirmDialog>
    </>
  );
}
