import { Badge, Stack, Table, Text } from '@mantine/core';
import { formatTime } from '../logs/audit-fns';
import type { HubSyncEntry } from './device-types';

const COLOURS = { pending: 'orange.9', done: 'green.9', failed: 'red.9' } as const;

/**
 * The last failure in the hub's words. A cloud refusing the key is named as such: it is put
 * right on the hub (a new key), not by waiting.
 */
function LastError({ text }: { text: string | null }) {
  if (!text) return <>—</>;
  const refused = /^credentials rejected: */.exec(text);
  return (
    <Stack gap={2} data-testid="hub-sync-error">
      {refused && (
        <Badge color="red.9" variant="outline" style={{ minWidth: 'max-content' }}>
          credentials rejected
        </Badge>
      )}
      <Text size="sm" c="red.9" style={{ wordBreak: 'break-word' }}>
        {refused ? text.slice(refused[0].length) : text}
      </Text>
    </Stack>
  );
}

/** What the platform asked of outside systems (hubs) about the device, newest first. */
export function HubSyncTable({ entries }: { entries: HubSyncEntry[] }) {
  if (entries.length === 0)
    return (
      <Text size="sm" c="dimmed">
        Nothing has been sent to a hub about this device. Devices of a policy with an IoT hub are
        onboarded to it when they enrol.
      </Text>
    );
  return (
    <Table.ScrollContainer minWidth={700}>
      <Table striped aria-label="Hub sync of the device">
        <Table.Thead>
          <Table.Tr>
            {['What', 'Status', 'Attempts', 'Last error', 'Asked', 'Done'].map((h) => (
              <Table.Th key={h} scope="col">
                {h}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {entries.map((e) => (
            <Table.Tr key={e.id}>
              <Table.Td>{e.topic}</Table.Td>
              <Table.Td>
                <Badge color={COLOURS[e.status]} style={{ minWidth: 'max-content' }}>
                  {e.status}
                </Badge>
              </Table.Td>
              <Table.Td>{e.attempts}</Table.Td>
              <Table.Td maw={360}>
                <LastError text={e.lastError} />
              </Table.Td>
              <Table.Td>{formatTime(e.createdAt)}</Table.Td>
              <Table.Td>{e.doneAt ? formatTime(e.doneAt) : '—'}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
