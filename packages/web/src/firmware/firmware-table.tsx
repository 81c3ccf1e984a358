import { ActionIcon, Anchor, Badge, Group, Stack, Table, Text, Tooltip } from '@mantine/core';
import { IconRocket } from '@tabler/icons-react';
import { Link } from 'react-router';
import { formatTime } from '../logs/audit-fns';
import { formatSize, signedBy } from './firmware-fns';
import type { Firmware } from './firmware-types';
import { DeleteAction, EditAction } from '../components/row-actions';

/**
 * The firmware list: name (with version and description), when and by whom it was added, size,
 * the signing keys that signed it, its attributes and the batches it is assigned to.
 * Administrators get assign, edit and delete; everyone else reads.
 */
export function FirmwareTable({
  items,
  admin,
  onAssign,
  onEdit,
  onDelete,
}: {
  items: Firmware[];
  admin: boolean;
  onAssign: (f: Firmware) => void;
  onEdit: (f: Firmware) => void;
  onDelete: (f: Firmware) => void;
}) {
  const heads = ['Name', 'Created', 'Size', 'Signed by', 'Attributes', 'Batches'];
  return (
    <Table.ScrollContainer minWidth={960}>
      <Table striped highlightOnHover aria-label="Firmware">
        <Table.Thead>
          <Table.Tr>
            {heads.map((h) => (
              <Table.Th key={h} scope="col">
                {h}
              </Table.Th>
            ))}
            {admin && (
              <Table.Th scope="col" ta="right">
                Actions
              </Table.Th>
            )}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((f) => {
            const keys = signedBy(f.signatures);
            return (
              <Table.Tr key={f.id} data-testid={`firmware-${f.name}`}>
                <Table.Td maw={280}>
                  <Text fw={500}>{f.name}</Text>
                  <Text size="xs" c="dimmed">
                    version {f.version} · security {f.securityVersion} · {f.format}
                    {f.input === 'intel-hex' ? ' · from Intel HEX' : ''}
                  </Text>
                  {f.description && (
                    <Text size="xs" lineClamp={2}>
                      {f.description}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{formatTime(f.createdAt)}</Text>
                  <Text size="xs" c="dimmed">
                    by {f.createdBy}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Tooltip label={`${f.size} bytes, SHA-256 ${f.sha256}`} multiline w={320}>
                    <Text size="sm" tabIndex={0}>
                      {formatSize(f.size)}
                    </Text>
                  </Tooltip>
                </Table.Td>
                <Table.Td>
                  {keys.length ? (
                    <Group gap={4}>
                      {keys.map((k) => (
                        <Badge
                          key={k}
                          variant="light"
                          tt="none"
                          style={{ minWidth: 'max-content' }}
                        >
                          {k}
                        </Badge>
                      ))}
                    </Group>
                  ) : (
                    <Text size="sm" c="dimmed">
                      none yet
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  {f.attributes.length ? (
                    <Group gap={4}>
                      {f.attributes.map((a) => (
                        <Badge
                          key={a.name}
                          variant="outline"
                          color="gray"
                          tt="none"
                          style={{ minWidth: 'max-content' }}
                        >
                          {a.name} = {a.value}
                        </Badge>
                      ))}
                    </Group>
                  ) : (
                    <Text size="sm" c="dimmed">
                      —
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Stack gap={2}>
                    {f.batches.length
                      ? f.batches.map((b) => (
                          <Anchor key={b.id} component={Link} to={`/devices/${b.id}`} size="sm">
                            {b.name}
                          </Anchor>
                        ))
                      : '—'}
                  </Stack>
                </Table.Td>
                {admin && (
                  <Table.Td>
                    <Group gap={4} wrap="nowrap" justify="flex-end">
                      <Tooltip label="Assign to a batch">
                        <ActionIcon
                          variant="subtle"
                          aria-label={`Assign ${f.name} to a batch`}
                          onClick={() => onAssign(f)}
                        >
                          <IconRocket size={18} aria-hidden />
                        </ActionIcon>
                      </Tooltip>
                      <EditAction name={f.name} onClick={() => onEdit(f)} />
                      <DeleteAction name={f.name} onClick={() => onDelete(f)} />
                    </Group>
                  </Table.Td>
                )}
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
