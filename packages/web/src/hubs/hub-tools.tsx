import { ActionIcon, Code, Group, Loader, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { IconDownload, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useApi } from '../api/api-context';
import { useApiQuery } from '../api/use-api-query';
import { ConfirmDialog } from '../components/confirm-dialog';
import { saveBlob } from '../components/download';
import { notifyError, notifySuccess } from '../components/notify';
import { ProblemAlert } from '../components/problem-alert';
import { formatTime } from '../logs/audit-fns';
import { zipName } from './hub-fns';
import type { Hub, Tool } from './hub-types';
import { ToolForm } from './tool-form';

/**
 * The third-party tools of a broker hub. Everyone sees the list; administrators add tools,
 * download a tool's zip again (its certificate and CA, without the key that was never kept)
 * and remove tools (their certificate is revoked and their connections cut).
 */
export function HubTools({ hub, admin }: { hub: Hub; admin: boolean }) {
  const api = useApi();
  const { data, error, loading, reload } = useApiQuery<{ items: Tool[] }>(`/hubs/${hub.id}/tools`);
  const [removing, setRemoving] = useState<Tool>();

  const download = async (t: Tool) => {
    try {
      saveBlob(zipName(t.name), await api.blob(`/hubs/${hub.id}/tools/${t.id}/credentials.zip`));
    } catch (err) {
      notifyError(err, 'The zip cannot be downloaded');
    }
  };

  return (
    <Stack>
      <Text size="sm" c="dimmed">
        Tools such as Node-RED or MQTT Explorer connect to this hub&apos;s broker with a certificate
        of its own and a client ID given here; the hub&apos;s rules for tools say what they may
        publish and subscribe to.
      </Text>
      {admin && <ToolForm hub={hub} onAdded={reload} />}
      <Title order={3} size="h5">
        Tools
      </Title>
      <ProblemAlert error={error} title="Tools cannot be shown" />
      {loading && !data && <Loader size="sm" aria-label="Loading tools" />}
      {data && data.items.length === 0 && (
        <Text size="sm" c="dimmed">
          {admin
            ? 'No tools yet. Add one above to get credentials for it.'
            : 'No tools yet. An administrator adds them.'}
        </Text>
      )}
      {data && data.items.length > 0 && (
        <Table.ScrollContainer minWidth={640}>
          <Table striped aria-label={`Tools of ${hub.name}`}>
            <Table.Thead>
              <Table.Tr>
                {['Name', 'Client ID', 'Key', 'Valid until', 'Added'].map((h) => (
                  <Table.Th key={h} scope="col">
                    {h}
                  </Table.Th>
                ))}
                {admin && <Table.Th scope="col">Actions</Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.items.map((t) => (
                <Table.Tr key={t.id} data-testid={`tool-${t.name}`}>
                  <Table.Td>{t.name}</Table.Td>
                  <Table.Td>
                    <Code fz="xs">{t.clientId}</Code>
                  </Table.Td>
                  <Table.Td>{t.keySource === 'csr' ? 'your CSR' : 'made here'}</Table.Td>
                  <Table.Td>{formatTime(t.notAfter)}</Table.Td>
                  <Table.Td>{formatTime(t.createdAt)}</Table.Td>
                  {admin && (
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Tooltip label="Download the zip (certificate and CA, no key)">
                          <ActionIcon
                            variant="subtle"
                            aria-label={`Download the zip of ${t.name}`}
                            onClick={() => void download(t)}
                          >
                            <IconDownload size={18} aria-hidden />
                          </ActionIcon>
                        </Tooltip>
                        <Tooltip label="Remove">
                          <ActionIcon
                            variant="subtle"
                            color="red"
                            aria-label={`Remove tool ${t.name}`}
                            onClick={() => setRemoving(t)}
                          >
                            <IconTrash size={18} aria-hidden />
                          </ActionIcon>
                        </Tooltip>
                      </Group>
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <ConfirmDialog
        opened={!!removing}
        title="Remove tool"
        confirmLabel="Remove"
        onClose={() => setRemoving(undefined)}
        onConfirm={() => api.delete(`/hubs/${hub.id}/tools/${removing?.id ?? ''}`)}
        onDone={() => {
          notifySuccess('The tool is removed; its certificate is revoked.');
          reload();
        }}
      >
        Remove tool <b>{removing?.name}</b>? Its certificate is revoked and its connections to the
        broker are cut.
      </ConfirmDialog>
    </Stack>
  );
}
