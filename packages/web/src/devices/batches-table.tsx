import { Anchor, Group, Table, VisuallyHidden } from '@mantine/core';
import { Link } from 'react-router';
import type { Batch } from './batch-types';
import { CountCell } from './count-cell';
import { DeleteAction, EditAction } from '../components/row-actions';

/**
 * The batches with their device counts. Enrolled, expired and revoked each carry a small bar
 * of their share of the batch's devices, so a glance down the column finds the odd batch.
 */
export function BatchesTable({
  batches,
  onEdit,
  onDelete,
}: {
  batches: Batch[];
  onEdit: (b: Batch) => void;
  onDelete: (b: Batch) => void;
}) {
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table striped highlightOnHover aria-label="Batches">
        <Table.Thead>
          <Table.Tr>
            {['Name', 'Devices', 'Enrolled', 'Expired', 'Revoked', 'Policy'].map((h) => (
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
          {batches.map((b) => (
            <Table.Tr key={b.id} data-testid={`batch-${b.name}`}>
              <Table.Td>
                <Anchor component={Link} to={`/devices/${b.id}`} fw={500}>
                  {b.name}
                </Anchor>
              </Table.Td>
              <Table.Td data-testid="count-devices">{b.counts.devices}</Table.Td>
              <Table.Td>
                <CountCell
                  count={b.counts.enrolled}
                  of={b.counts.devices}
                  color="green.7"
                  testId="count-enrolled"
                />
              </Table.Td>
              <Table.Td>
                <CountCell
                  count={b.counts.expired}
                  of={b.counts.devices}
                  color="dark.3"
                  testId="count-expired"
                />
              </Table.Td>
              <Table.Td>
                <CountCell
                  count={b.counts.revoked}
                  of={b.counts.devices}
                  color="red.7"
                  testId="count-revoked"
                />
              </Table.Td>
              <Table.Td>
                <Anchor component={Link} to="/policies" size="sm">
                  {b.policyName}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <Group gap={4} wrap="nowrap" justify="flex-end">
                  <EditAction name={b.name} onClick={() => onEdit(b)} />
                  <DeleteAction name={b.name} onClick={() => onDelete(b)} />
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
