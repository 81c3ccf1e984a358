import { Code, Table, Text } from '@mantine/core';
import type { DeviceListProblem } from './batch-types';

/** The refused entries of a device list: position, value and reason, as a table. */
export function UploadProblems({
  problems,
  total,
  caption,
}: {
  problems: DeviceListProblem[];
  total: number;
  caption: string;
}) {
  return (
    <>
      <Text size="sm" mb={4}>
        {caption}
        {total > problems.length ? ` The first ${problems.length} of ${total} are listed.` : ''}
      </Text>
      <Table.ScrollContainer minWidth={500} mah={260}>
        <Table
          aria-label="Problems in the device list"
          data-testid="upload-problems"
          withTableBorder
        >
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Entry</Table.Th>
              <Table.Th scope="col">Value</Table.Th>
              <Table.Th scope="col">Reason</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {problems.map((p) => (
              <Table.Tr key={`${p.entry}-${p.reason}`}>
                <Table.Td>{p.entry}</Table.Td>
                <Table.Td>
                  <Code style={{ wordBreak: 'break-all' }}>{p.value}</Code>
                </Table.Td>
                <Table.Td>{p.reason}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </>
  );
}
