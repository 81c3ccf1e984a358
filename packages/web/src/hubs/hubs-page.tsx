import {
  ActionIcon,
  Badge,
  Button,
  CloseButton,
  Group,
  Modal,
  Paper,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from '@mantine/core';
import { IconCloudComputing, IconEye, IconPlus, IconTool } from '@tabler/icons-react';
import { useState } from 'react';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { notifySuccess } from '../components/notify';
import { PageHeader } from '../components/page-header';
import { ProblemAlert } from '../components/problem-alert';
import { ListSection } from '../components/list-section';
import { ListTable } from '../components/list-table';
import { useIsAdministrator } from '../session/use-is-administrator';
import { HubForm } from './hub-form';
import { isCloudHubType } from './cloud-hub-fns';
import { checkOutcome } from './hub-fns';
import { hubFormOf } from './hub-form-registry';
import { HubSettingsView } from './hub-settings-view';
import { HubTools } from './hub-tools';
import { HUB_TYPE_LABELS, type Hub, type HubStatus } from './hub-types';
import { DeleteAction, EditAction } from '../components/row-actions';

type Dialog = { kind: 'create' } | { kind: 'edit' | 'delete' | 'view'; hub: Hub } | undefined;

function StatusBadge({
  check,
  cloud,
}: {
  check: HubStatus['hubs'][number] | undefined;
  cloud: boolean;
}) {
  if (!check)
    return (
      <Badge color="gray.7" style={{ minWidth: 'max-content' }}>
        not checked
      </Badge>
    );
  const outcome = checkOutcome(check);
  return (
    <Stack gap={2}>
      <Tooltip label={check.detail} multiline w={300}>
        <Badge
          color={check.ok ? 'green.9' : 'red.9'}
          tabIndex={0}
          style={{ minWidth: 'max-content' }}
          aria-label={`${outcome}: ${check.detail}`}
        >
          {outcome}
        </Badge>
      </Tooltip>
      {/* A cloud's answer says what to put right (the key, or the network): shown, not hidden. */}
      {cloud && (
        <Text size="xs" c="dimmed" lineClamp={3} maw={260} data-testid="hub-status-detail">
          {check.detail}
        </Text>
      )}
    </Stack>
  );
}

/**
 * IoT Hubs (H1–H6): where enrolled devices are onboarded, with each hub's reachability, and the
 * third-party tools of broker hubs. Administrators create, change and delete hubs and manage
 * tools; contributors read (the server refuses them the rest, and never returns secrets).
 */
export function HubsPage() {
  const api = useApi();
  const admin = useIsAdministrator();
  const { data, error, loading, reload } = useApiQuery<{ items: Hub[] }>('/hubs');
  const status = useApiQuery<HubStatus>('/hubs/status');
  const [dialog, setDialog] = useState<Dialog>();
  const [toolsOf, setToolsOf] = useState<string>();
  const close = () => setDialog(undefined);
  const hubs = data?.items ?? [];
  const toolsHub = hubs.find((h) => h.id === toolsOf);
  const changed = () => {
    reload();
    status.reload();
  };

  const create = admin && (
    <Button
      leftSection={<IconPlus size={18} aria-hidden />}
      onClick={() => setDialog({ kind: 'create' })}
    >
      Create IoT hub
    </Button>
  );

  return (
    <>
      <PageHeader
        title="IoT Hubs"
        description="Brokers and clouds that enrolled devices are onboarded to."
        actions={hubs.length > 0 && create}
      />
      <Stack>
        <ProblemAlert error={status.error} title="Hub status cannot be shown" />
        <ListSection
          error={error}
          errorTitle="IoT hubs cannot be shown"
          loading={loading}
          loadingLabel="Loading IoT hubs"
          items={data ? hubs : undefined}
          empty={{
            icon: <IconCloudComputing size={32} aria-hidden />,
            title: 'No IoT hubs yet',
            description: admin
              ? 'Create a hub (an MQTT broker of this platform, a managed Mosquitto, AWS IoT Core, Azure IoT Hub or Azure IoT Central), then choose it in a policy: devices of that policy are onboarded to it when they enrol.'
              : 'An administrator creates IoT hubs; they will be listed here.',
            action: create,
          }}
        >
          <ListTable
            label="IoT hubs"
            columns={['Name', 'Type', 'Status', 'Settings', 'Secrets']}
            actions="shown"
            minWidth={820}
            highlightOnHover
          >
            {hubs.map((h) => {
              const form = hubFormOf(h.type);
              const secrets = Object.entries(h.secrets);
              return (
                <Table.Tr key={h.id} data-testid={`hub-${h.name}`}>
                  <Table.Td>
                    <Text fw={500}>{h.name}</Text>
                  </Table.Td>
                  <Table.Td>{HUB_TYPE_LABELS[h.type] ?? h.type}</Table.Td>
                  <Table.Td>
                    <StatusBadge
                      check={status.data?.hubs.find((c) => c.id === h.id)}
                      cloud={isCloudHubType(h.type)}
                    />
                  </Table.Td>
                  <Table.Td maw={320}>
                    <Text size="sm" lineClamp={2}>
                      {form ? form.summary(h) : '—'}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    {secrets.length === 0
                      ? 'none'
                      : secrets.map(([k, s]) => (
                          <Text key={k} size="sm">
                            {k}: {s.set ? '********' : 'not set'}
                          </Text>
                        ))}
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap" justify="flex-end">
                      {form?.hasTools && (
                        <Button
                          size="xs"
                          variant={toolsOf === h.id ? 'light' : 'default'}
                          leftSection={<IconTool size={14} aria-hidden />}
                          aria-label={`Tools of ${h.name}`}
                          onClick={() => setToolsOf(toolsOf === h.id ? undefined : h.id)}
                        >
                          Tools
                        </Button>
                      )}
                      {!admin && form && (
                        <Tooltip label="Settings">
                          <ActionIcon
                            variant="subtle"
                            aria-label={`Settings of ${h.name}`}
                            onClick={() => setDialog({ kind: 'view', hub: h })}
                          >
                            <IconEye size={18} aria-hidden />
                          </ActionIcon>
                        </Tooltip>
                      )}
                      {admin && form && (
                        <EditAction
                          name={h.name}
                          onClick={() => setDialog({ kind: 'edit', hub: h })}
                        />
                      )}
                      {admin && (
                        <DeleteAction
                          name={h.name}
                          onClick={() => setDialog({ kind: 'delete', hub: h })}
                        />
                      )}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </ListTable>
          {hubs.some((h) => !hubFormOf(h.type)) && (
            <Text size="xs" c="dimmed" mt="xs" px="xs">
              This console has no form yet for some hub types; change those through the API.
            </Text>
          )}
        </ListSection>
        {toolsHub && (
          <Paper withBorder p="md" component="section" aria-labelledby="hub-tools">
            <Group justify="space-between" mb="sm">
              <Title order={2} size="h4" id="hub-tools">
                Tools of {toolsHub.name}
              </Title>
              <CloseButton aria-label="Close tools" onClick={() => setToolsOf(undefined)} />
            </Group>
            <HubTools key={toolsHub.id} hub={toolsHub} admin={admin} />
          </Paper>
        )}
      </Stack>
      <Modal
        opened={dialog?.kind === 'create' || dialog?.kind === 'edit'}
        onClose={close}
        closeOnClickOutside={false}
        title={dialog?.kind === 'edit' ? `Edit IoT hub ${dialog.hub.name}` : 'Create IoT hub'}
        size="xl"
      >
        {(dialog?.kind === 'create' || dialog?.kind === 'edit') && (
          <HubForm
            hub={dialog.kind === 'edit' ? dialog.hub : undefined}
            onCancel={close}
            onSaved={(h) => {
              close();
              notifySuccess(`IoT hub ${h.name} is saved.`);
              changed();
            }}
          />
        )}
      </Modal>
      <Modal
        opened={dialog?.kind === 'view'}
        onClose={close}
        title={dialog?.kind === 'view' ? `IoT hub ${dialog.hub.name}` : ''}
        size="xl"
      >
        {dialog?.kind === 'view' && <HubSettingsView hub={dialog.hub} />}
      </Modal>
      <ConfirmDialog
        opened={dialog?.kind === 'delete'}
        title="Delete IoT hub"
        onClose={close}
        onConfirm={() => api.delete(`/hubs/${dialog?.kind === 'delete' ? dialog.hub.id : ''}`)}
        onDone={() => {
          if (dialog?.kind === 'delete' && toolsOf === dialog.hub.id) setToolsOf(undefined);
          notifySuccess('The IoT hub is deleted.');
          changed();
        }}
      >
        Delete IoT hub <b>{dialog?.kind === 'delete' ? dialog.hub.name : ''}</b>? Its tools are
        revoked. A hub that a policy uses cannot be deleted.
      </ConfirmDialog>
    </>
  );
}
