import { ActionIcon, Badge, Code, Group, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { IconRefresh } from '@tabler/icons-react';
import { useApiQuery } from '../api/use-api-query';
import { ProblemAlert } from '../components/problem-alert';
import {
  CLOUD_OBJECT_LABELS,
  cloudStateColour,
  isCloudHubType,
  sortCloudObjects,
  type CloudObject,
} from '../hubs/cloud-hub-fns';
import { HUB_TYPE_LABELS, type Hub } from '../hubs/hub-types';
import { formatTime } from '../logs/audit-fns';

/**
 * What this platform has put in the cloud hub of the device's policy (thing, IoT policy,
 * certificates; a device identity; an attestation), with the cloud's own names for them (ARN,
 * thumbprint), from GET /hubs/{hubId}/devices/{deviceId}. Nothing is shown for a device whose
 * policy has no hub or a broker hub: those keep no objects elsewhere.
 */
export function DeviceCloudObjects({ policyId, deviceId }: { policyId: string; deviceId: string }) {
  const policy = useApiQuery<{ hubId: string | null }>(`/policies/${policyId}`);
  const hubId = policy.data?.hubId ?? null;
  const hub = useApiQuery<Hub>(hubId ? `/hubs/${hubId}` : null);
  const cloud = hub.data && isCloudHubType(hub.data.type) ? hub.data : undefined;
  const objects = useApiQuery<{ objects: CloudObject[] }>(
    cloud ? `/hubs/${cloud.id}/devices/${deviceId}` : null,
  );
  if (policy.error || hub.error)
    return <ProblemAlert error={policy.error ?? hub.error} title="The device's hub is unknown" />;
  if (!cloud) return null;
  const list = sortCloudObjects(objects.data?.objects ?? []);
  return (
    <Stack gap="xs" mt="md" component="section" aria-labelledby="device-cloud-objects">
      <Group justify="space-between">
        <Title order={3} size="h5" id="device-cloud-objects">
          In {cloud.name} ({HUB_TYPE_LABELS[cloud.type] ?? cloud.type})
        </Title>
        <Tooltip label="Read again">
          <ActionIcon
            variant="subtle"
            aria-label="Read the cloud objects again"
            loading={objects.loading}
            onClick={objects.reload}
          >
            <IconRefresh size={18} aria-hidden />
          </ActionIcon>
        </Tooltip>
      </Group>
      <ProblemAlert error={objects.error} title="The cloud objects cannot be shown" />
      {objects.data && list.length === 0 && (
        <Text size="sm" c="dimmed">
          Nothing of this device is in {cloud.name} yet. Its hub sync (above) says whether a call is
          waiting or why one failed.
        </Text>
      )}
      {list.length > 0 && (
        <Table.ScrollContainer minWidth={700}>
          <Table striped aria-label={`Objects of the device in ${cloud.name}`}>
            <Table.Thead>
              <Table.Tr>
                {['Object', 'Ours', 'In the cloud', 'State', 'Changed'].map((h) => (
                  <Table.Th key={h} scope="col">
                    {h}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.map((o) => (
                <Table.Tr key={`${o.kind}/${o.localId}`} data-testid={`cloud-object-${o.kind}`}>
                  <Table.Td>{CLOUD_OBJECT_LABELS[o.kind] ?? o.kind}</Table.Td>
                  <Table.Td maw={200}>
                    <Code fz="xs" style={{ wordBreak: 'break-all' }}>
                      {o.localId}
                    </Code>
                  </Table.Td>
                  <Table.Td maw={340}>
                    <Code fz="xs" style={{ wordBreak: 'break-all' }}>
                      {o.remoteId}
                    </Code>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={cloudStateColour(o.state)} style={{ minWidth: 'max-content' }}>
                      {o.state}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{formatTime(o.updatedAt)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}
