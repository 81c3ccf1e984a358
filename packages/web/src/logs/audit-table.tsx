import { Badge, Checkbox, Menu, ActionIcon, Table, Text, Tooltip } from '@mantine/core';
import { IconColumns } from '@tabler/icons-react';
import { describeEntry, formatTime, type AuditEntry, type AuditResult } from './audit-fns';

/** Columns a user may hide; time and message always show. */
export const OPTIONAL_COLUMNS = ['result', 'actor', 'source', 'details'] as const;
export type OptionalColumn = (typeof OPTIONAL_COLUMNS)[number];
const COLUMN_LABEL: Record<OptionalColumn, string> = {
  result: 'Result',
  actor: 'Actor',
  source: 'Source address',
  details: 'Details',
};

const RESULT_COLOUR: Record<AuditResult, string> = {
  ok: 'green.9',
  denied: 'orange.9',
  failed: 'red.9',
};

function detailsText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/** The menu that picks the visible columns (kept by the caller, e.g. in local storage). */
export function ColumnSettings({
  visible,
  onChange,
}: {
  visible: OptionalColumn[];
  onChange: (v: OptionalColumn[]) => void;
}) {
  return (
    <Menu closeOnItemClick={false} position="bottom-end">
      <Menu.Target>
        <Tooltip label="Choose columns">
          <ActionIcon variant="default" size="lg" aria-label="Choose columns">
            <IconColumns size={18} aria-hidden />
          </ActionIcon>
        </Tooltip>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Columns</Menu.Label>
        {OPTIONAL_COLUMNS.map((c) => (
          <Menu.Item key={c}>
            <Checkbox
              label={COLUMN_LABEL[c]}
              checked={visible.includes(c)}
              onChange={(e) =>
                onChange(
                  e.currentTarget.checked
                    ? OPTIONAL_COLUMNS.filter((x) => x === c || visible.includes(x))
                    : visible.filter((x) => x !== c),
                )
              }
            />
          </Menu.Item>
        ))}
      </Menu.Dropdown>
    </Menu>
  );
}

/** Audit entries as a table: when, what happened, and the chosen extra columns. */
export function AuditTable({
  entries,
  columns,
  caption,
}: {
  entries: AuditEntry[];
  columns: OptionalColumn[];
  caption: string;
}) {
  const show = (c: OptionalColumn) => columns.includes(c);
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table striped highlightOnHover verticalSpacing="xs" aria-label={caption}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Time</Table.Th>
            <Table.Th scope="col">Message</Table.Th>
            {show('result') && <Table.Th scope="col">Result</Table.Th>}
            {show('actor') && <Table.Th scope="col">Actor</Table.Th>}
            {show('source') && <Table.Th scope="col">Source address</Table.Th>}
            {show('details') && <Table.Th scope="col">Details</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {entries.map((e) => (
            <Table.Tr key={e.seq}>
              <Table.Td style={{ whiteSpace: 'nowrap' }}>
                <time dateTime={e.at}>{formatTime(e.at)}</time>
              </Table.Td>
              <Table.Td>{describeEntry(e)}</Table.Td>
              {show('result') && (
                <Table.Td>
                  <Badge
                    color={RESULT_COLOUR[e.result]}
                    variant="filled"
                    style={{ minWidth: 'max-content' }}
                  >
                    {e.result}
                  </Badge>
                </Table.Td>
              )}
              {show('actor') && (
                <Table.Td>
                  <Text size="sm">
                    {e.actor.name}{' '}
                    <Text span c="dimmed" size="xs">
                      ({e.actor.type})
                    </Text>
                  </Text>
                </Table.Td>
              )}
              {show('source') && <Table.Td>{e.sourceAddress ?? '—'}</Table.Td>}
              {show('details') && (
                <Table.Td>
                  <Text size="xs" ff="monospace" lineClamp={2} title={detailsText(e.details)}>
                    {detailsText(e.details) || '—'}
                  </Text>
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
