import { ActionIcon, Tooltip } from '@mantine/core';
import { IconPencil, IconTrash } from '@tabler/icons-react';

interface RowActionProps {
  /** The record's name, for the button's accessible label ("Edit <name>"). */
  name: string;
  onClick: () => void;
  size?: number;
}

/** A table row's "Edit" icon button, named after its record for screen readers and tests. */
export function EditAction({ name, onClick, size = 18 }: RowActionProps) {
  return (
    <Tooltip label="Edit">
      <ActionIcon variant="subtle" aria-label={`Edit ${name}`} onClick={onClick}>
        <IconPencil size={size} aria-hidden />
      </ActionIcon>
    </Tooltip>
  );
}

/** A table row's red "Delete" icon button; the page asks for confirmation in its own dialog. */
export function DeleteAction({ name, onClick, size = 18 }: RowActionProps) {
  return (
    <Tooltip label="Delete">
      <ActionIcon variant="subtle" color="red" aria-label={`Delete ${name}`} onClick={onClick}>
        <IconTrash size={size} aria-hidden />
      </ActionIcon>
    </Tooltip>
  );
}
