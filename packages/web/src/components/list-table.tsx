import { Table, VisuallyHidden } from '@mantine/core';
import type { ReactNode } from 'react';

/**
 * A striped table of a list's rows under a header row of column names, scrolling sideways
 * below `minWidth`. A last column of row actions is headed "Actions", shown (`'shown'`, right
 * aligned) or for screen readers only (`'hidden'`, when its icons speak for themselves).
 */
export function ListTable({
  label,
  columns,
  actions,
  minWidth,
  highlightOnHover = false,
  children,
}: {
  /** The table's accessible name. */
  label: string;
  columns: readonly string[];
  actions?: 'shown' | 'hidden';
  minWidth: number;
  highlightOnHover?: boolean;
  /** The rows (Table.Tr). */
  children: ReactNode;
}) {
  return (
    <Table.ScrollContainer minWidth={minWidth}>
      <Table striped highlightOnHover={highlightOnHover} aria-label={label}>
        <Table.Thead>
          <Table.Tr>
            {columns.map((h) => (
              <Table.Th key={h} scope="col">
                {h}
              </Table.Th>
            ))}
            {actions === 'shown' && (
              <Table.Th scope="col" ta="right">
                Actions
              </Table.Th>
            )}
            {actions === 'hidden' && (
              <Table.Th scope="col">
                <VisuallyHidden>Actions</VisuallyHidden>
              </Table.Th>
            )}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>{children}</Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
